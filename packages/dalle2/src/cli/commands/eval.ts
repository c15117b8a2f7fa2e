import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type CLIPModel, loadCLIP } from '@dalle2js/clip';
import { evaluateShapes, type ShapesRetrievalScore, type ShapesScore } from '../../eval/evaluate-shapes.js';
import { DALLE2_SAMPLERS } from '../../pipeline/generate-options.js';
import { loadDalle2 } from '../../pipeline/load-pipeline.js';
import { UsageError } from '../cli-error.js';
import { loadBackend } from '../load-backend.js';
import {
  findAboveCli,
  modelDir,
  nonNegativeNumber,
  oneOf,
  parseSeed,
  positiveInteger,
} from '../parse-options.js';
import { ProgressBar } from '../progress-bar.js';

export const EVAL_USAGE = `usage: dalle2 eval [options]
  Generates 'a <colour> <shape>' for every colour and shape of the shapes data set and reports the
  share of images whose dominant colour and shape match (classifyShapeImage), also separately for
  the held-out pairs. With an evaluation CLIP (a CLIP trained apart from the model's), the same
  images are also scored by retrieval precision: the share whose own prompt is the most similar of
  the 24 under that CLIP, overall, seen and held-out. Chance is 1/24 for both.
  -n, --images N          images per prompt (default 4)
  --seed N                (default 0)
  --steps N, --prior-steps N, --guidance G, --prior-guidance G, --sampler ddim|ddpm
  -m, --model DIR         (default: $DALLE2_MODEL, else models/shapes)
  --eval-clip DIR         the evaluation CLIP, a loadCLIP folder with a tokenizer (default:
                          models/eval-clip when it exists)
  --no-eval-clip          skip the retrieval score
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
      'eval-clip': { type: 'string' },
      'no-eval-clip': { type: 'boolean' },
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
  if (values['no-eval-clip'] && values['eval-clip'] !== undefined) {
    throw new UsageError('--eval-clip and --no-eval-clip cannot go together');
  }
  const evalClipDir = values['no-eval-clip']
    ? undefined
    : (values['eval-clip'] ?? findAboveCli(DEFAULT_EVAL_CLIP));

  const backend = await loadBackend(values.backend);
  const stream = values.quiet ? undefined : process.stderr;
  stream?.write(`backend: ${backend.summary}\n`);
  // Loaded first, so that a bad folder fails before any image is generated.
  const evalClip = evalClipDir === undefined ? undefined : await loadEvalClip(evalClipDir);
  if (evalClipDir !== undefined) stream?.write(`evaluation CLIP: ${evalClipDir}\n`);
  let pipeline: Awaited<ReturnType<typeof loadDalle2>>;
  try {
    pipeline = await loadDalle2(dir);
  } catch (error) {
    evalClip?.dispose();
    throw error;
  }
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
      ...(evalClip && { evalClip }),
    });
    bar?.done();
    if (values.json) {
      const json = evalClipDir === undefined ? result : { ...result, evalClip: evalClipDir };
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      return;
    }
    const percent = (name: string, rate: number) =>
      `${name.padEnd(16)} ${(100 * rate).toFixed(1).padStart(5)}%`;
    const line = (name: string, s: ShapesScore) =>
      `${percent(name, s.rate)} (${s.matched}/${s.images}); colour ${s.colourMatched}/${s.images}, shape ${s.shapeMatched}/${s.images}`;
    const lines = [
      line('seen pairs', result.seen),
      line('held-out pairs', result.heldOut),
      percent('chance', 1 / 24),
    ];
    if (result.retrieval) {
      const r = result.retrieval;
      const retrieved = (name: string, s: ShapesRetrievalScore) =>
        `${percent(name, s.precision)} (${s.retrieved}/${s.images}); colour ${s.colourRetrieved}/${s.images}, shape ${s.shapeRetrieved}/${s.images}`;
      lines.push(
        `retrieval precision@1 among the 24 prompts under the evaluation CLIP (${evalClipDir}):`,
        retrieved('all pairs', r.all),
        retrieved('seen pairs', r.seen),
        retrieved('held-out pairs', r.heldOut),
        percent('chance', r.chance),
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    bar?.done();
    pipeline.dispose();
    evalClip?.dispose();
  }
}

/** The folder of the committed evaluation CLIP, `models/eval-clip` at the repository root. */
const DEFAULT_EVAL_CLIP = join('models', 'eval-clip');

/** The evaluation CLIP in `dir`, or one line saying why it cannot be used. */
async function loadEvalClip(dir: string): Promise<CLIPModel> {
  if (!existsSync(dir)) throw new Error(`--eval-clip: the folder ${dir} does not exist`);
  let clip: CLIPModel;
  try {
    clip = await loadCLIP(dir);
  } catch (error) {
    throw new Error(`--eval-clip: cannot load a CLIP from ${dir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (clip.tokenizer === undefined) {
    clip.dispose();
    throw new Error(
      `--eval-clip: ${dir} has no tokenizer (vocab.json + merges.txt), so it cannot embed prompts`,
    );
  }
  return clip;
}
