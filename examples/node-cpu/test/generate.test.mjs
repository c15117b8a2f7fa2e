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
import { tinyPipeline } from '../src/tiny-pipeline.mjs';

const SCRIPT = fileURLToPath(new URL('../src/generate.mjs', import.meta.url));
/** @type {string} */
let dir;
/** The tiny pipeline saved as a folder: the tests load it with --model, whatever models/ holds. */
/** @type {string} */
let model;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'node-cpu-'));
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
 * @returns {Promise<{ code: number, stdout: string, stderr: string }>}
 */
function run(args) {
  const env = { ...process.env };
  delete env.DALLE2_MODEL;
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { env, timeout: 300_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('writes a grid of -n images, the same for the same seed', async () => {
  const first = join(dir, 'first.png');
  const second = join(dir, 'second.png');
  const args = ['a red circle', '-n', '2', '--seed', '3', '--steps', '2', '--model', model];
  const one = await run([...args, '--out', first]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stdout, `${first}\n`);
  assert.match(one.stderr, /^backend: cpu$/m);
  assert.ok(one.stderr.split('\n').includes(`model: ${model}`), one.stderr);
  assert.match(one.stderr, /^2 images of 32x32 px in [\d.]+ s$/m);

  const grid = decodePng(await readFile(first));
  // Two 32 px images side by side, 2 px of padding around each (makeImageGrid's default).
  assert.equal(grid.width, 2 * 32 + 6);
  assert.equal(grid.height, 32 + 4);
  const values = Array.from(grid.data);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  assert.ok(variance > 0, 'the grid is one flat colour');

  const two = await run([...args, '--out', second]);
  assert.equal(two.code, 0, two.stderr);
  assert.deepEqual(await readFile(second), await readFile(first));
});

test('bad arguments exit 2 with one line and the usage', async () => {
  const noPrompt = await run([]);
  assert.equal(noPrompt.code, 2);
  assert.match(noPrompt.stderr, /^node-cpu: give one or more prompts/);
  const zero = await run(['a red circle', '-n', '0']);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /^node-cpu: -n\/--images must be an integer >= 1, got 0$/m);
  const out = await run(['a red circle', '--out', 'grid.jpg']);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /--out must name a \.png file/);
});

test('a missing --model folder fails with one line naming it', async () => {
  const missing = join(dir, 'no-such-model');
  const result = await run(['a red circle', '--model', missing]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr.trim().split('\n').at(-1), `node-cpu: model folder ${missing} does not exist`);
});
