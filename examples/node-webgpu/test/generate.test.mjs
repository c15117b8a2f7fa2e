// @ts-check
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertGrid, runExample, tinyModelFolder } from '@dalle2js/example-support/test-helpers';
import { create } from 'webgpu';

const SCRIPT = fileURLToPath(new URL('../src/generate.mjs', import.meta.url));
const NO_ADAPTER =
  "node-webgpu: The 'webgpu' backend found no GPU adapter: Dawn (the `webgpu` package) needs a GPU driver " +
  '(Vulkan on Linux, Metal on macOS, D3D12 on Windows). Use `wasm` on machines without one.';

/** The tiny pipeline saved as a folder (on the cpu backend): the tests load it with --model. */
const folder = tinyModelFolder('node-webgpu', 'cpu');
/** Whether Dawn finds an adapter here (on a GPU-less Linux machine, after .ci/install-lavapipe.sh). */
let hasAdapter = false;

before(async () => {
  hasAdapter = (await create([]).requestAdapter()) !== null;
});

test('writes a grid of -n images on the GPU adapter', async (t) => {
  if (!hasAdapter) {
    t.skip(
      'Dawn finds no WebGPU adapter on this machine (on Linux without a GPU, run .ci/install-lavapipe.sh)',
    );
    return;
  }
  const out = join(folder.dir, 'grid.png');
  const args = ['a red circle', '-n', '2', '--seed', '3', '--steps', '2', '--out', out];
  const result = await runExample(SCRIPT, [...args, '--model', folder.model]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `${out}\n`);
  assert.match(result.stderr, /^backend: webgpu$/m);
  assert.match(result.stderr, /^2 images of 32x32 px in [\d.]+ s$/m);
  await assertGrid(out, { images: 2, size: 32 });
});

test('without a GPU adapter it exits 2 with one line saying so', async (t) => {
  if (process.platform !== 'linux') {
    t.skip('hiding every adapter needs the Vulkan loader (Linux): VK_ICD_FILENAMES names no driver');
    return;
  }
  // The Vulkan loader then finds no driver, as on a machine without a GPU or lavapipe.
  const result = await runExample(SCRIPT, ['a red circle', '--model', folder.model], {
    VK_ICD_FILENAMES: join(folder.dir, 'no-driver.json'),
  });
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stdout, '');
  const ours = result.stderr.split('\n').filter((line) => line.startsWith('node-webgpu:'));
  assert.deepEqual(ours, [NO_ADAPTER]);
});
