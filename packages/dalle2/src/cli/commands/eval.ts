import { parseArgs } from 'node:util';
import { evaluateShapes, type ShapesScore } from '../../eval/evaluate-shapes.js';
import { DALLE2_SAMPLERS } from '../../pipeline/generate-options.js';
import { loadDalle2 } from '../../pipeline/load-pipeline.js';
import { loadBackend } from '../load-backend.js';
import { modelDir, nonNegativeNumber, oneOf, parseSeed, positiveInteger } from '../parse-options.js';
import { ProgressBar } from '../progress-bar.js';

export const EVAL_USAGE = `usage: dalle2 eval [options]
  Generates 'a <colour> <shape>' for every colour and shape of the shapes data set and reports the
  share of images whose dominant colour and shape match (classifyShapeImage), also separately for
  the held-out pairs. Chance is 1/24.
  -n, --images N          images per prompt (default 4)
  --seed N                (default 0)
  --steps N, --prior-steps N, --guidance G, --prior-guidance G, --sampler ddim|ddpm
  -m, --model DIR         (default: $DALLE2_MODEL, else models/shapes)
  --backend NAME
  --json                  print the full result as JSON
  -q, --quiet`;

export async function evalCommand(args: string[], signal: AbortSignal): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      images: { type: 'string', short: 'n' },
      seed: { type: 'string' },
      steps: { type: 'string' },
      'prior-steps': { type: 'string' },
      guidance: { type: 'string' },
      'prior-guidance': { type: 'string' },
      sampler: { type: 'string' },
      model: { type: 'string', short: 'm' },
      backend: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    },
  });
  const imagesPerPrompt = positiveInteger('-n/--images', values.images, 4);
  const seed = parseSeed(values.seed) ?? 0n;
  const steps = positiveInteger('--steps', values.steps);
  const priorSteps = positiveInteger('--prior-steps', values['prior-steps']) ?? steps;
  const decoderGuidance = nonNegativeNumber('--guidance', values.guidance);
  const priorGuidance = nonNegativeNumber('--prior-guidance', values['prior-guidance']);
  const sampler = oneOf('--sampler', values.sampler, DALLE2_SAMPLERS, 'ddim');
  const dir = modelDir(values.model);

  const backend = await loadBackend(values.backend);
  const stream = values.quiet ? undefined : process.stderr;
  stream?.write(`backend: ${backend.summary}\n`);
  const pipeline = await loadDalle2(dir);
  const bar = stream && new ProgressBar('eval', 24, stream, 'prompts');
  try {
    const result = await evaluateShapes(pipeline, {
      imagesPerPrompt,
      seed,
      ...(priorSteps === undefined ? {} : { priorSteps }),
      ...(steps === undefined ? {} : { decoderSteps: steps }),
      ...(decoderGuidance === undefined ? {} : { decoderGuidance }),
      ...(priorGuidance === undefined ? {} : { priorGuidance }),
      sampler,
      signal,
      onBatch: (done) => bar?.update(done),
    });
    bar?.done();
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const line = (name: string, s: ShapesScore) =>
      `${name.padEnd(16)} ${(100 * s.rate).toFixed(1).padStart(5)}% (${s.matched}/${s.images}); colour ${s.colourMatched}/${s.images}, shape ${s.shapeMatched}/${s.images}`;
    process.stdout.write(
      `${[line('seen pairs', result.seen), line('held-out pairs', result.heldOut), `chance            4.2%`].join('\n')}\n`,
    );
  } finally {
    bar?.done();
    pipeline.dispose();
  }
}
