// @ts-check
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodePng, selectBackend } from '@dalle2js/core';
import { saveDalle2 } from '@dalle2js/dalle2';
import { tinyPipeline } from '../src/tiny-pipeline.mjs';

const SCRIPT = fileURLToPath(new URL('../src/generate.mjs', import.meta.url));
/** Resolves packages as core's selectBackend does: from core's own files. */
const fromCore = createRequire(fileURLToPath(import.meta.resolve('@dalle2js/core')));

/** @type {string} */
let dir;
/** The tiny pipeline saved as a folder (on the cpu backend): the tests load it with --model. */
/** @type {string} */
let model;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'node-tfjs-gpu-'));
  model = join(dir, 'tiny-model');
  await selectBackend('cpu');
  const pipeline = tinyPipeline(0);
  try {
    await saveDalle2(pipeline, model);
  } finally {
    pipeline.dispose();
  }
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** @param {string} name */
function installed(name) {
  try {
    fromCore.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * @param {string[]} args
 * @param {string | undefined} backend DALLE2_BACKEND
 * @returns {Promise<{ code: number, stdout: string, stderr: string }>}
 */
function run(args, backend) {
  const env = { ...process.env };
  delete env.DALLE2_MODEL;
  delete env.DALLE2_BACKEND;
  if (backend !== undefined) env.DALLE2_BACKEND = backend;
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { env, timeout: 300_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** @type {[backend: string, pkg: string][]} */
const BACKENDS = [
  ['tensorflow-gpu', '@tensorflow/tfjs-node-gpu'],
  ['tensorflow', '@tensorflow/tfjs-node'],
];
for (const [backend, pkg] of BACKENDS) {
  test(`${backend}: generates with ${pkg}, or exits 2 naming it when it is missing`, async () => {
    const out = join(dir, `${backend}.png`);
    const result = await run(['a red circle', '--steps', '1', '--model', model, '--out', out], backend);
    if (!installed(pkg)) {
      assert.equal(result.code, 2, result.stderr);
      assert.equal(
        result.stderr,
        `node-tfjs-gpu: The '${backend}' backend needs the package ${pkg}, which is not installed: pnpm add ${pkg}\n`,
      );
      return;
    }
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^backend: tensorflow$/m);
    const grid = decodePng(await readFile(out));
    assert.equal(grid.width, 32 + 4);
  });
}

test('DALLE2_BACKEND other than the two tfjs-node backends exits 2', async () => {
  const result = await run(['a red circle'], 'wasm');
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    "node-tfjs-gpu: DALLE2_BACKEND must be tensorflow-gpu or tensorflow here, got 'wasm'\n",
  );
});
