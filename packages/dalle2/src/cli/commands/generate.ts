import { parseArgs } from 'node:util';
import { encodePng, makeImageGrid, writeFileAtomic } from '@dalle2js/core';
import { DALLE2_SAMPLERS } from '../../pipeline/generate-options.js';
import { loadDalle2 } from '../../pipeline/load-pipeline.js';
import { checkPrompts } from '../../pipeline/text-conditioning.js';
import { UsageError } from '../cli-error.js';
import { loadBackend } from '../load-backend.js';
import { checkOutputPath, imagePaths } from '../output-files.js';
import { modelDir, nonNegativeNumber, oneOf, parseSeed, positiveInteger } from '../parse-options.js';
import { StageProgress } from '../stage-progress.js';

export const GENERATE_USAGE = `usage: dalle2 generate PROMPT... [options]
  -n, --images N          images per prompt (default 1)
  --seed N                seed of all the noise: the same seed gives the same images
  -o, --out FILE.png      the grid of all images (default out.png); each image also goes to FILE-<i>.png
  --steps N               denoising steps of the prior and of each decoder
  --prior-steps N         denoising steps of the prior (default: --steps)
  --guidance G            classifier-free guidance of the decoders (default: the model's, else 8)
  --prior-guidance G      classifier-free guidance of the prior (default: the model's, else 4)
  --sampler ddim|ddpm     (default ddim)
  -m, --model DIR         the pipeline folder (default: $DALLE2_MODEL, else models/shapes)
  --backend NAME          auto, cpu, wasm, webgl, webgpu, tensorflow, tensorflow-gpu (default auto)
  -q, --quiet             no progress bars`;

export async function generateCommand(args: string[], signal: AbortSignal): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      images: { type: 'string', short: 'n' },
      seed: { type: 'string' },
      out: { type: 'string', short: 'o' },
      steps: { type: 'string' },
      'prior-steps': { type: 'string' },
      guidance: { type: 'string' },
      'prior-guidance': { type: 'string' },
      sampler: { type: 'string' },
      model: { type: 'string', short: 'm' },
      backend: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
  });
  if (positionals.length === 0)
    throw new UsageError('generate needs a prompt, e.g. dalle2 generate "a red circle"');
  positionals.forEach((prompt, i) => {
    if (prompt.trim() === '') {
      throw new UsageError(`prompt ${i + 1} is empty; give some words, e.g. dalle2 generate "a red circle"`);
    }
  });
  const imagesPerPrompt = positiveInteger('-n/--images', values.images, 1);
  const seed = parseSeed(values.seed);
  const steps = positiveInteger('--steps', values.steps);
  const priorSteps = positiveInteger('--prior-steps', values['prior-steps']) ?? steps;
  const decoderGuidance = nonNegativeNumber('--guidance', values.guidance);
  const priorGuidance = nonNegativeNumber('--prior-guidance', values['prior-guidance']);
  const sampler = oneOf('--sampler', values.sampler, DALLE2_SAMPLERS, 'ddim');
  const out = values.out ?? 'out.png';
  const dir = modelDir(values.model);
  await checkOutputPath(out);

  const backend = await loadBackend(values.backend);
  const stream = values.quiet ? undefined : process.stderr;
  stream?.write(`backend: ${backend.summary}\n`);
  const pipeline = await loadDalle2(dir);
  const progress = new StageProgress(stream);
  try {
    try {
      checkPrompts(pipeline.clip, positionals);
    } catch (error) {
      throw new UsageError(
        (error as Error).message.replace(/^prompts\[(\d+)\]/, (_, i) => `prompt ${Number(i) + 1}`),
      );
    }
    const result = await pipeline.generate(positionals, {
      imagesPerPrompt,
      ...(seed === undefined ? {} : { seed }),
      ...(priorSteps === undefined ? {} : { priorSteps }),
      ...(steps === undefined ? {} : { decoderSteps: steps }),
      ...(decoderGuidance === undefined ? {} : { decoderGuidance }),
      ...(priorGuidance === undefined ? {} : { priorGuidance }),
      sampler,
      onProgress: progress.onProgress,
      signal,
    });
    progress.done();
    let grid: Uint8Array;
    try {
      grid = encodePng(await makeImageGrid(result.images));
    } finally {
      result.images.dispose();
    }
    const paths = imagePaths(out, result.png.length);
    for (const [i, path] of paths.entries()) await writeFileAtomic(path, result.png[i]!);
    await writeFileAtomic(out, grid);
    process.stdout.write(`${out}\n${paths.join('\n')}\n`);
  } finally {
    progress.done();
    pipeline.dispose();
  }
}
