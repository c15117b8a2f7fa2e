// @ts-check
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodePng, selectBackend } from '@dalle2js/core';
import { saveDalle2 } from '@dalle2js/dalle2';
import { create } from 'webgpu';
import { tinyPipeline } from '../src/tiny-pipeline.mjs';

const SCRIPT = fileURLToPath(new URL('../src/generate.mjs', import.meta.url));
const NO_ADAPTER =
  "node-webgpu: The 'webgpu' backend found no GPU adapter: Dawn (the `webgpu` package) needs a GPU driver " +
  '(Vulkan on Linux, Metal on macOS, D3D12 on Windows). Use `wasm` on machines without one.';

/** @type {string} */
let dir;
/** The tiny pipeline saved as a folder (on the cpu backend): the tests load it with --model. */
/** @type {string} */
let model;
/** Whether Dawn finds an adapter here (on a GPU-less Linux machine, after .ci/install-lavapipe.sh). */
let hasAdapter = false;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'node-webgpu-'));
  hasAdapter = (await create([]).requestAdapter()) !== null;
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

/**
 * Runs the example as a user would, without DALLE2_MODEL in its environment.
 * @param {string[]} args
 * @param {Record<string, string>} [extraEnv]
 * @returns {Promise<{ code: number, stdout: string, stderr: string }>}
 */
function run(args, extraEnv = {}) {
  const env = { ...process.env, ...extraEnv };
  delete env.DALLE2_MODEL;
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { env, timeout: 300_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('writes a grid of -n images on the GPU adapter', async (t) => {
  if (!hasAdapter) {
    t.skip(
      'Dawn finds no WebGPU adapter on this machine (on Linux without a GPU, run .ci/install-lavapipe.sh)',
    );
    return;
  }
  const out = join(dir, 'grid.png');
  const args = ['a red circle', '-n', '2', '--seed', '3', '--steps', '2', '--model', model, '--out', out];
  const result = await run(args);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `${out}\n`);
  assert.match(result.stderr, /^backend: webgpu$/m);
  assert.match(result.stderr, /^2 images of 32x32 px in [\d.]+ s$/m);

  const grid = decodePng(await readFile(out));
  assert.equal(grid.width, 2 * 32 + 6);
  assert.equal(grid.height, 32 + 4);
  const values = Array.from(grid.data);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  assert.ok(variance > 0, 'the grid is one flat colour');
});

test('without a GPU adapter it exits 2 with one line saying so', async (t) => {
  if (process.platform !== 'linux') {
    t.skip('hiding every adapter needs the Vulkan loader (Linux): VK_ICD_FILENAMES names no driver');
    return;
  }
  // The Vulkan loader then finds no driver, as on a machine without a GPU or lavapipe.
  const result = await run(['a red circle', '--model', model], {
    VK_ICD_FILENAMES: join(dir, 'no-driver.json'),
  });
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stdout, '');
  const ours = result.stderr.split('\n').filter((line) => line.startsWith('node-webgpu:'));
  assert.deepEqual(ours, [NO_ADAPTER]);
});
