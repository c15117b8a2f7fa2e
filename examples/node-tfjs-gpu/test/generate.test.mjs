// @ts-check
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodePng } from '@dalle2js/core';
import { runExample, tinyModelFolder } from '@dalle2js/example-support/test-helpers';

const SCRIPT = fileURLToPath(new URL('../src/generate.mjs', import.meta.url));
/** Resolves packages as core's selectBackend does: from core's own files. */
const fromCore = createRequire(fileURLToPath(import.meta.resolve('@dalle2js/core')));

/** The tiny pipeline saved as a folder (on the cpu backend): the tests load it with --model. */
const folder = tinyModelFolder('node-tfjs-gpu', 'cpu');

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
 */
function run(args, backend) {
  return runExample(SCRIPT, args, { DALLE2_BACKEND: backend });
}

/** @type {[backend: string, pkg: string][]} */
const BACKENDS = [
  ['tensorflow-gpu', '@tensorflow/tfjs-node-gpu'],
  ['tensorflow', '@tensorflow/tfjs-node'],
];
for (const [backend, pkg] of BACKENDS) {
  test(`${backend}: generates with ${pkg}, or exits 2 naming it when it is missing`, async () => {
    const out = join(folder.dir, `${backend}.png`);
    const result = await run(
      ['a red circle', '--steps', '1', '--model', folder.model, '--out', out],
      backend,
    );
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
