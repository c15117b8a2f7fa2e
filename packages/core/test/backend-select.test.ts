import { availableParallelism, cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, test } from 'vitest';
import { missingPackageError } from '../src/backend/import-backend-package.js';
import { BACKEND_NAMES, describeBackend, selectBackend, setBackend } from '../src/backend/index.js';

afterEach(async () => {
  delete process.env.DALLE2_BACKEND;
  await tf.setBackend('cpu');
});

/** A small matMul whose result is known, run on the active backend. */
async function matMulWorks(): Promise<void> {
  const product = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]));
  expect(Array.from(await product.data())).toEqual([19, 22, 43, 50]);
  product.dispose();
}

describe('names', () => {
  test('an unknown name lists the valid ones', async () => {
    await expect(selectBackend('metal')).rejects.toThrow(
      "Unknown backend 'metal'. Valid backends: auto, cpu, wasm, webgl, webgpu, tensorflow, tensorflow-gpu.",
    );
  });

  test('BACKEND_NAMES are the backends without auto', () => {
    expect(BACKEND_NAMES).toEqual(['cpu', 'wasm', 'webgl', 'webgpu', 'tensorflow', 'tensorflow-gpu']);
  });

  test('setBackend is selectBackend', () => {
    expect(setBackend).toBe(selectBackend);
  });
});

describe('missing packages', () => {
  test.each([
    ['tensorflow', '@tensorflow/tfjs-node'],
    ['tensorflow-gpu', '@tensorflow/tfjs-node-gpu'],
  ])("'%s' names the package to install", async (name, packageName) => {
    await expect(selectBackend(name)).rejects.toThrow(
      `The '${name}' backend needs the package ${packageName}, which is not installed: pnpm add ${packageName}`,
    );
    expect(tf.getBackend()).toBe('cpu');
  });

  test('a missing dependency of an installed package is not reported as the package', () => {
    const inner = Object.assign(new Error("Cannot find module 'libfoo' imported from tfjs-node"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    expect(missingPackageError('x', '@tensorflow/tfjs-node-gpu', inner)).toBe(inner);
  });

  test('other errors pass through', () => {
    const other = new Error('@tensorflow/tfjs-node: bad ELF header');
    expect(missingPackageError('x', '@tensorflow/tfjs-node', other)).toBe(other);
  });
});

describe('cpu and wasm', () => {
  test('cpu selects and computes', async () => {
    const description = await selectBackend('cpu');
    expect(description).toEqual({ name: 'cpu', summary: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
    await matMulWorks();
  });

  test('wasm selects with SIMD and every core (at most 8) in Node, and computes', async () => {
    const description = await selectBackend('wasm');
    const threads = Math.min(availableParallelism(), 8);
    expect(description).toEqual({
      name: 'wasm',
      simd: true,
      threads,
      summary: `wasm, SIMD, ${threads} thread${threads === 1 ? '' : 's'}`,
    });
    expect(tf.getBackend()).toBe('wasm');
    expect(describeBackend()).toEqual(description);
    await matMulWorks();
  });

  test("wasm's Node setup leaves worker_threads and os as they were", async () => {
    await selectBackend('wasm');
    expect(Worker.name).toBe('Worker');
    expect((await import('node:worker_threads')).Worker).toBe(Worker);
    expect(cpus().length).toBe(availableParallelism());
  });

  test('wasm computes a large matMul like cpu (its threads share the work correctly)', async () => {
    const a = tf.randomNormal([256, 512], 0, 1, 'float32', 1);
    const b = tf.randomNormal([512, 128], 0, 1, 'float32', 2);
    const onCpu = await tf.matMul(a, b).data();
    await selectBackend('wasm');
    const onWasm = await tf.matMul(a, b).data();
    let worst = 0;
    onCpu.forEach((value, i) => {
      worst = Math.max(worst, Math.abs(value - onWasm[i]!));
    });
    expect(worst).toBeLessThan(1e-3);
    tf.dispose([a, b]);
  });
});

test('webgl in Node says that it needs a browser', async () => {
  await expect(selectBackend('webgl')).rejects.toThrow(
    "The 'webgl' backend did not register itself with tfjs (tfjs-backend-webgl registers only in browsers).",
  );
});

describe('auto', () => {
  test('is wasm in Node', async () => {
    expect((await selectBackend()).name).toBe('wasm');
    expect((await selectBackend('auto')).name).toBe('wasm');
  });

  test('follows DALLE2_BACKEND in Node', async () => {
    process.env.DALLE2_BACKEND = 'cpu';
    expect((await selectBackend('auto')).name).toBe('cpu');
    process.env.DALLE2_BACKEND = 'wasm';
    expect((await selectBackend('auto')).name).toBe('wasm');
  });

  test('checks DALLE2_BACKEND like a name', async () => {
    process.env.DALLE2_BACKEND = 'gpu';
    await expect(selectBackend('auto')).rejects.toThrow("Unknown backend 'gpu'. Valid backends: auto, cpu");
  });
});

describe('webgpu in Node (Dawn)', () => {
  test('either runs or says clearly that there is no GPU adapter', async () => {
    let description: Awaited<ReturnType<typeof selectBackend>> | undefined;
    try {
      description = await selectBackend('webgpu');
    } catch (error) {
      expect((error as Error).message).toMatch(
        /^The 'webgpu' backend found no GPU adapter: Dawn \(the `webgpu` package\) needs a GPU driver/,
      );
      expect(tf.getBackend()).toBe('cpu');
      return;
    }
    expect(description.name).toBe('webgpu');
    await matMulWorks();
  });
});
