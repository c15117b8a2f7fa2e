// @ts-check
// The command line of every Node example: each example's src/generate.mjs only says which backend
// it starts.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { encodePng, makeImageGrid } from '@dalle2js/core';
import { checkPrompts, loadDalle2, tinyDalle2 } from '@dalle2js/dalle2';
import { defaultModel } from './default-model.mjs';

const TINY_SEED = 0;

/**
 * @typedef {object} Example
 * @property {string} name The program name that messages start with.
 * @property {string} backend What the example runs on, for --help.
 * @property {() => Promise<{ summary: string }>} startBackend Makes the example's backend tfjs' active one.
 */

/**
 * The whole command line: parses `args`, starts the backend, loads the model (or builds the tiny
 * untrained one), generates and writes the grid. Resolves to the exit status: 0 done, 1 failed
 * while generating, 2 bad arguments or a backend that cannot start. Every failure is one line.
 * @param {Example} example
 * @param {string[]} args
 * @returns {Promise<number>}
 */
export async function runGenerate(example, args) {
  const usage = `usage: ${example.name} PROMPT... [options]   (runs on ${example.backend})
  -n, --images N     images per prompt (default 1)
  --seed N           seed of all the noise: the same seed gives the same images (default 0)
  -o, --out FILE     the grid of all images, a PNG (default grid.png)
  --steps N          denoising steps of the prior and of each decoder (default: the model's own)
  -m, --model DIR    a pipeline folder (default: $DALLE2_MODEL, else models/shapes in the repo,
                     else a tiny untrained pipeline)`;
  const fail = (/** @type {number} */ code, /** @type {string} */ message) => {
    process.stderr.write(`${example.name}: ${message}\n`);
    return code;
  };

  /** @type {{ images?: string, seed?: string, out?: string, steps?: string, model?: string, help?: boolean }} */
  let values;
  /** @type {string[]} */
  let prompts;
  try {
    ({ values, positionals: prompts } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        images: { type: 'string', short: 'n' },
        seed: { type: 'string' },
        out: { type: 'string', short: 'o' },
        steps: { type: 'string' },
        model: { type: 'string', short: 'm' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return fail(2, `${/** @type {Error} */ (error).message}\n${usage}`);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (prompts.length === 0 || prompts.some((p) => p.trim() === '')) {
    return fail(2, `give one or more prompts, e.g. "a red circle"\n${usage}`);
  }
  /** @type {number} */
  let imagesPerPrompt;
  /** @type {number} */
  let seed;
  /** @type {number | undefined} */
  let steps;
  try {
    imagesPerPrompt = integer('-n/--images', values.images ?? '1', 1);
    seed = integer('--seed', values.seed ?? '0', 0);
    steps = values.steps === undefined ? undefined : integer('--steps', values.steps, 1);
  } catch (error) {
    return fail(2, /** @type {Error} */ (error).message);
  }
  const out = values.out ?? 'grid.png';
  if (!out.toLowerCase().endsWith('.png')) return fail(2, `--out must name a .png file, got ${out}`);

  try {
    const backend = await example.startBackend();
    process.stderr.write(`backend: ${backend.summary}\n`);
  } catch (error) {
    return fail(2, oneLine(error));
  }

  /** @type {import('@dalle2js/dalle2').Dalle2} */
  let pipeline;
  try {
    const given = values.model ?? process.env.DALLE2_MODEL;
    const { dir: modelDir, why } = given === undefined ? await defaultModel() : { dir: given, why: '' };
    if (modelDir === null) {
      process.stderr.write(
        `model: none given and ${why}: using a tiny untrained pipeline (random weights, seed ${TINY_SEED}); its images are noise\n`,
      );
      pipeline = tinyDalle2(TINY_SEED);
    } else {
      process.stderr.write(`model: ${modelDir}\n`);
      pipeline = await loadDalle2(modelDir);
    }
  } catch (error) {
    return fail(1, oneLine(error));
  }

  try {
    checkPrompts(pipeline.clip, prompts);
  } catch (error) {
    pipeline.dispose();
    return fail(
      2,
      oneLine(error).replace(/^prompts\[(\d+)\]/, (_, i) => `prompt ${Number(i) + 1}`),
    );
  }
  try {
    const progress = stageProgress();
    const started = performance.now();
    const result = await pipeline.generate(prompts, {
      imagesPerPrompt,
      seed,
      ...(steps === undefined ? {} : { priorSteps: steps, decoderSteps: steps }),
      onProgress: progress,
    });
    const seconds = (performance.now() - started) / 1000;
    try {
      await writeFile(out, encodePng(await makeImageGrid(result.images)));
    } finally {
      result.images.dispose();
    }
    const size = pipeline.imageSize;
    process.stderr.write(
      `${result.png.length} image${result.png.length === 1 ? '' : 's'} of ${size}x${size} px in ${seconds.toFixed(1)} s\n`,
    );
    process.stdout.write(`${out}\n`);
    return 0;
  } catch (error) {
    return fail(1, oneLine(error));
  } finally {
    pipeline.dispose();
  }
}

/**
 * @param {string} name
 * @param {string} text
 * @param {number} min
 */
function integer(name, text, min) {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min}, got ${text}`);
  }
  return value;
}

/** @param {unknown} error */
function oneLine(error) {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/**
 * A progress line per stage on stderr: redrawn in place on a terminal, printed once when the
 * stage ends otherwise (so that logs stay short).
 */
function stageProgress() {
  const tty = process.stderr.isTTY;
  // A stage starts where the one before ended: its first step (and any shader compiling) counts.
  let start = performance.now();
  let last = start;
  /** @type {string | undefined} */
  let current;
  return (/** @type {string} */ stage, /** @type {number} */ step, /** @type {number} */ total) => {
    if (stage !== current) {
      current = stage;
      start = last;
    }
    last = performance.now();
    const width = 20;
    const filled = Math.round((width * step) / total);
    const line = `${stage.padEnd(9)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${step}/${total} ${((last - start) / 1000).toFixed(1)} s`;
    if (tty) process.stderr.write(`\r${line}${step === total ? '\n' : ''}`);
    else if (step === total) process.stderr.write(`${line}\n`);
  };
}
