import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

// The built package in plain Node, without vitest's ESM handling of tfjs-core's gradient files.
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const dist = { esm: `${packageDir}dist/index.js`, cjs: `${packageDir}dist/index.cjs` };

beforeAll(() => {
  for (const file of Object.values(dist)) {
    if (!existsSync(file)) throw new Error(`${file} is missing: build the package first (pnpm build).`);
  }
});

/**
 * Gradients of a conv2d + matMul + gather loss, with respect to the input, the filter and the
 * table. It runs both here and in the child processes, from its source, so it uses only `tf`.
 */
function lossGradients(tf: typeof import('@tensorflow/tfjs-core')): number[][] {
  return tf.tidy(() => {
    const values = (size: number, phase: number) => tf.sin(tf.add(tf.mul(tf.range(0, size), 0.37), phase));
    const x = tf.reshape(values(2 * 8 * 8 * 3, 0), [2, 8, 8, 3]);
    const filter = tf.reshape(values(3 * 3 * 3 * 4, 1), [3, 3, 3, 4]);
    const table = tf.reshape(values(10 * 4, 2), [10, 4]);
    const ids = tf.tensor1d([1, 3, 3, 7], 'int32');
    const loss = (x: tf.Tensor, filter: tf.Tensor, table: tf.Tensor) => {
      const h = tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 2, 'same'); // [2, 4, 4, 4]
      const e = tf.gather(table, ids); // [4, 4]
      return tf.sum(tf.square(tf.matMul(tf.reshape(h, [32, 4]), e)));
    };
    return tf
      .grads(loss)([x, filter, table])
      .map((g) => Array.from(g.dataSync()));
  });
}

interface ChildResult {
  summary: string;
  gradients: number[][];
  missing: string;
}

const run = `async function run(tf, core, backend) {
  const { summary } = await core.selectBackend(backend);
  const gradients = (${lossGradients.toString()})(tf);
  const missing = await core.selectBackend('tensorflow').then(() => 'loaded', (error) => error.message);
  return { summary, gradients, missing };
}`;

const scripts = {
  esm: `import * as tf from '@tensorflow/tfjs-core';
import * as core from '@dalle2js/core';
${run}
console.log(JSON.stringify(await run(tf, core, process.argv[1])));`,
  cjs: `const tf = require('@tensorflow/tfjs-core');
const core = require('@dalle2js/core');
${run}
run(tf, core, process.argv[1]).then((result) => console.log(JSON.stringify(result)));`,
};

/** Runs a script as plain `node`, in the package directory so that `@dalle2js/core` is this package. */
async function runNode(format: 'esm' | 'cjs', backend: string): Promise<ChildResult> {
  const inputType = format === 'esm' ? 'module' : 'commonjs';
  // No `process.exit`: the child must end by itself, so idle wasm threads must not hold it open.
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [`--input-type=${inputType}`, '-e', scripts[format], backend],
    { cwd: packageDir, timeout: 60_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;
}

function relativeDifference(actual: number[], expected: number[]): number {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(...expected.map(Math.abs));
  expect(scale).toBeGreaterThan(0);
  return Math.max(...actual.map((value, i) => Math.abs(value - expected[i]!))) / scale;
}

describe('the built package in plain Node', () => {
  const threads = Math.min(availableParallelism(), 8);
  const cases: ['esm' | 'cjs', string, string, number][] = [
    ['esm', 'cpu', 'cpu', 1e-6],
    ['cjs', 'cpu', 'cpu', 1e-6],
    ['esm', 'wasm', `wasm, SIMD, ${threads} thread${threads === 1 ? '' : 's'}`, 1e-4],
    ['cjs', 'wasm', `wasm, SIMD, ${threads} thread${threads === 1 ? '' : 's'}`, 1e-4],
  ];
  test.each(cases)(
    '%s on %s: gradients like tfjs-core under vitest',
    async (format, backend, summary, tolerance) => {
      const result = await runNode(format, backend);
      expect(result.summary).toBe(summary);
      expect(result.missing).toBe(
        "The 'tensorflow' backend needs the package @tensorflow/tfjs-node, which is not installed: pnpm add @tensorflow/tfjs-node",
      );
      expect(tf.getBackend()).toBe('cpu');
      const expected = lossGradients(tf);
      expect(result.gradients).toHaveLength(3);
      result.gradients.forEach((gradient, i) => {
        expect(relativeDifference(gradient, expected[i]!)).toBeLessThan(tolerance);
      });
    },
  );
});

describe('the bundle', () => {
  const sources = Object.values(dist).map((file) => readFileSync(file, 'utf8'));

  test('imports tfjs-core only through its public entry', () => {
    for (const source of sources) {
      expect(source).not.toMatch(/(from |require\(|import\()"@tensorflow\/tfjs-core\//);
      expect(source).toMatch(/(from |require\()"@tensorflow\/tfjs-core"/);
    }
  });

  test('holds no second tfjs-core engine, Tensor class or flag registry', () => {
    for (const source of sources) {
      expect(source).not.toMatch(/class (Engine|Tensor|Environment)\b/);
      expect(source).not.toMatch(/registerFlag\(/);
    }
  });

  test("carries tfjs-core's gradient configs", () => {
    for (const source of sources) {
      for (const name of [
        'conv2DGradConfig',
        'batchMatMulGradConfig',
        'gatherGradConfig',
        'maxPoolGradConfig',
      ]) {
        expect(source).toContain(name);
      }
    }
  });

  test('keeps backend imports as literal dynamic imports', () => {
    for (const source of sources) {
      for (const name of ['cpu', 'wasm', 'webgl', 'webgpu']) {
        expect(source).toContain(`import("@tensorflow/tfjs-backend-${name}")`);
      }
      expect(source).toMatch(
        /import\(\s*\/\* webpackIgnore: true \*\/\s*\/\* @vite-ignore \*\/\s*"@tensorflow\/tfjs-node"/,
      );
    }
  });
});
