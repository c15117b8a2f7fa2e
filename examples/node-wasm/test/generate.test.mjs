// @ts-check
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodePng } from '@dalle2js/core';
import { generateTests, runExample, tinyModelFolder } from '@dalle2js/example-support/test-helpers';

const SCRIPT = fileURLToPath(new URL('../src/generate.mjs', import.meta.url));

const folder = tinyModelFolder('node-wasm', 'wasm');
// Node 20 runs wasm SIMD and can share memory with worker threads, so both must be on.
generateTests({
  name: 'node-wasm',
  script: SCRIPT,
  folder,
  backendLine: /^backend: wasm, SIMD, \d+ threads?$/m,
});

test('without --model it runs models/shapes, or the tiny pipeline while that is incomplete, and says which', async () => {
  const out = join(folder.dir, 'default.png');
  const result = await runExample(SCRIPT, ['a red circle', '--steps', '1', '--out', out]);
  assert.equal(result.code, 0, result.stderr);
  const line = result.stderr.split('\n').find((l) => l.startsWith('model: ')) ?? '';
  assert.match(line, /^model: (.*models\/shapes|none given and .*: using a tiny untrained pipeline .*)$/);
  assert.ok(decodePng(await readFile(out)).width > 0);
});
