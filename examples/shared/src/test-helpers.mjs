// @ts-check
// What the Node examples' tests share: a tiny model folder, running an example as a user would,
// checking the grid it writes, and the tests that every example whose backend runs here passes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodePng, selectBackend } from '@dalle2js/core';
import { saveDalle2, tinyDalle2 } from '@dalle2js/dalle2';

/**
 * @typedef {object} TinyModelFolder
 * @property {string} dir A temporary folder for the test file's outputs, removed after its tests.
 * @property {string} model `tinyDalle2(0)` saved as a pipeline folder inside `dir`: the tests load
 *   it with --model, whatever models/ holds.
 */

/**
 * Registers `before` and `after` hooks that make and remove a temporary folder holding the tiny
 * pipeline, saved on `backend`. The fields are set once the `before` hook has run.
 * @param {string} prefix The temporary folder's name starts with it.
 * @param {string} backend The backend that builds and saves the pipeline.
 * @returns {TinyModelFolder}
 */
export function tinyModelFolder(prefix, backend) {
  const folder = { dir: '', model: '' };
  before(async () => {
    folder.dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    folder.model = join(folder.dir, 'tiny-model');
    await selectBackend(backend);
    const pipeline = tinyDalle2(0);
    try {
      await saveDalle2(pipeline, folder.model);
    } finally {
      pipeline.dispose();
    }
  });
  after(async () => {
    await rm(folder.dir, { recursive: true, force: true });
  });
  return folder;
}

/**
 * Runs an example's script as a user would, without DALLE2_MODEL in its environment.
 * @param {string} script
 * @param {string[]} args
 * @param {Record<string, string | undefined>} [env] Added to the environment; `undefined` removes a variable.
 * @returns {Promise<{ code: number, stdout: string, stderr: string }>}
 */
export function runExample(script, args, env = {}) {
  /** @type {Record<string, string | undefined>} */
  const merged = { ...process.env, DALLE2_MODEL: undefined, ...env };
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      { env: merged, timeout: 300_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/**
 * Checks the grid PNG an example wrote: `images` images of `size` px in a row, 2 px of padding
 * around each (makeImageGrid's default), and not one flat colour.
 * @param {string} path
 * @param {{ images: number, size: number }} expected
 */
export async function assertGrid(path, { images, size }) {
  const grid = decodePng(await readFile(path));
  assert.equal(grid.width, images * size + 2 * (images + 1));
  assert.equal(grid.height, size + 4);
  const values = Array.from(grid.data);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  assert.ok(variance > 0, 'the grid is one flat colour');
}

/**
 * @typedef {object} GenerateTests
 * @property {string} name The example's name, which its messages start with.
 * @property {string} script Its src/generate.mjs.
 * @property {TinyModelFolder} folder
 * @property {RegExp} backendLine What it prints about the backend it started.
 */

/**
 * Registers the tests of an example whose backend runs on every machine: it writes a grid of -n
 * images, the same for the same seed; bad arguments exit 2 with one line; a missing --model folder
 * fails with one line naming it.
 * @param {GenerateTests} example
 */
export function generateTests({ name, script, folder, backendLine }) {
  test('writes a grid of -n images, the same for the same seed', async () => {
    const first = join(folder.dir, 'first.png');
    const second = join(folder.dir, 'second.png');
    const args = ['a red circle', '-n', '2', '--seed', '3', '--steps', '2', '--model', folder.model];
    const one = await runExample(script, [...args, '--out', first]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, `${first}\n`);
    assert.match(one.stderr, backendLine);
    assert.ok(one.stderr.split('\n').includes(`model: ${folder.model}`), one.stderr);
    assert.match(one.stderr, /^2 images of 32x32 px in [\d.]+ s$/m);
    await assertGrid(first, { images: 2, size: 32 });

    const two = await runExample(script, [...args, '--out', second]);
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual(await readFile(second), await readFile(first));
  });

  test('bad arguments exit 2 with one line and the usage', async () => {
    const noPrompt = await runExample(script, []);
    assert.equal(noPrompt.code, 2);
    assert.ok(noPrompt.stderr.startsWith(`${name}: give one or more prompts`), noPrompt.stderr);
    const zero = await runExample(script, ['a red circle', '-n', '0']);
    assert.equal(zero.code, 2);
    assert.ok(
      zero.stderr.split('\n').includes(`${name}: -n/--images must be an integer >= 1, got 0`),
      zero.stderr,
    );
    const out = await runExample(script, ['a red circle', '--out', 'grid.jpg']);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /--out must name a \.png file/);
  });

  test('a missing --model folder fails with one line naming it', async () => {
    const missing = join(folder.dir, 'no-such-model');
    const result = await runExample(script, ['a red circle', '--model', missing]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim().split('\n').at(-1), `${name}: model folder ${missing} does not exist`);
  });
}
