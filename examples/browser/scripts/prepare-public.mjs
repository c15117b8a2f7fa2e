#!/usr/bin/env node
// @ts-check
// Fills public/ with what the page fetches from its own origin: the pipeline folder (model/) and
// tfjs' .wasm files (wasm/). Runs before `vite` and `vite build`, on the built dalle2js packages.
//
// The model is --model DIR, else $DALLE2_MODEL, else models/shapes at the root of the repo; with
// none of these (or with --tiny) it writes a tiny untrained pipeline (random weights, seed 0), and
// says so.
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatBPEFiles, loadCLIPTokenizer } from '@dalle2js/clip';
import { selectBackend } from '@dalle2js/core';
import { readPipelineConfig, saveDalle2, tinyDalle2 } from '@dalle2js/dalle2';
import { defaultModel } from '@dalle2js/example-support/default-model';

const PUBLIC = fileURLToPath(new URL('../public/', import.meta.url));
const TINY_SEED = 0;
const WASM_FILES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];

const { values } = parseArgs({
  options: { model: { type: 'string', short: 'm' }, tiny: { type: 'boolean' } },
});
const given = values.model ?? process.env.DALLE2_MODEL;
const { dir: source, why } = values.tiny
  ? { dir: null, why: '--tiny' }
  : given === undefined
    ? await defaultModel()
    : { dir: given, why: '' };
// Written beside public/model and swapped in at the end, so that a server (or a second build)
// never sees half a folder.
const finalDir = join(PUBLIC, 'model');
const modelDir = join(PUBLIC, `.model-${process.pid}`);
await rm(modelDir, { recursive: true, force: true });

/** What the page shows about the model it runs. */
let about;
if (source === null) {
  await selectBackend('cpu');
  const pipeline = tinyDalle2(TINY_SEED);
  try {
    await saveDalle2(pipeline, modelDir);
  } finally {
    pipeline.dispose();
  }
  about = `a tiny untrained pipeline (random weights, seed ${TINY_SEED}): its images are noise`;
  console.error(`prepare-public: ${values.tiny ? '--tiny' : `no model given and ${why}`}: wrote ${about}`);
} else {
  const config = await readPipelineConfig(source);
  if (!config.clip || !config.prior || !config.decoders?.length) {
    throw new Error(`prepare-public: ${source} lacks a component (it needs clip, prior and decoders)`);
  }
  // Only what config.json names: a training folder also holds logs and checkpoints.
  await mkdir(modelDir, { recursive: true });
  for (const file of [
    'config.json',
    ...[config.clip, config.prior, ...config.decoders].map((e) => e.weights),
  ]) {
    await copyFile(join(source, file), join(modelDir, file));
  }
  const tokenizerDir = join(modelDir, config.clip.tokenizer);
  await cp(join(source, config.clip.tokenizer), tokenizerDir, { recursive: true });
  // The page reads the tokenizer as vocab.json + merges.txt, whichever format the folder holds.
  if (!existsSync(join(tokenizerDir, 'vocab.json')) || !existsSync(join(tokenizerDir, 'merges.txt'))) {
    const tokenizer = await loadCLIPTokenizer(tokenizerDir);
    for (const [name, text] of Object.entries(formatBPEFiles(tokenizer, 'vocab-and-merges'))) {
      await writeFile(join(tokenizerDir, name), text);
    }
  }
  about = `the model folder ${basename(source)}`;
  console.error(`prepare-public: copied ${source}`);
}
await writeFile(join(modelDir, 'about.json'), `${JSON.stringify({ about })}\n`);
const written = await readPipelineConfig(modelDir);
await rm(finalDir, { recursive: true, force: true });
await rename(modelDir, finalDir);

// tfjs-backend-wasm fetches its .wasm files at run time, from the path the page gives setWasmPaths.
const require = createRequire(import.meta.url);
const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
await mkdir(join(PUBLIC, 'wasm'), { recursive: true });
for (const file of WASM_FILES) await copyFile(join(wasmDist, file), join(PUBLIC, 'wasm', file));

const entries = [written.clip, written.prior, ...(written.decoders ?? [])];
const total = entries.reduce((sum, entry) => sum + (entry?.bytes ?? 0), 0);
console.error(
  `prepare-public: public/model (${(total / 1e6).toFixed(2)} MB of weights) and public/wasm ready`,
);
