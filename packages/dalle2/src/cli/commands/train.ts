import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { trainClip } from '../../train/train-clip.js';
import { resolveTrainConfig, TRAIN_KINDS, type TrainKind } from '../../train/train-config.js';
import { trainDecoder } from '../../train/train-decoder.js';
import { trainPrior } from '../../train/train-prior.js';
import { UsageError } from '../cli-error.js';
import { loadBackend } from '../load-backend.js';

export const TRAIN_USAGE = `usage: dalle2 train clip|prior|decoder --config FILE [--backend NAME] [-q]
  Trains one component of a pipeline folder with AdamW, an EMA of the weights and gradient
  clipping. The run folder ("out") gets checkpoint.safetensors (atomic; the same command resumes
  exactly), log.jsonl, loss.svg and samples/; the EMA weights go into the model folder at each
  checkpoint. Train clip first, then prior and decoder.
  The config is JSON; paths are relative to it:
    {
      "model": "models/shapes",            the pipeline folder (made if missing)
      "out": "runs/shapes-decoder",        the run folder
      "data": { "source": "shapes", "count": 2000 },   or "emoji", or "folder" with "path"
      "steps": 2000, "batchSize": 16, "lr": 1e-4, "weightDecay": 0.01, "betas": [0.9, 0.999],
      "emaDecay": 0.999, "maxGradNorm": 1, "warmupSteps": 0, "totalSteps": null, "seed": 0,
      "checkpointEvery": 100, "sampleEvery": 0, "resume": true,
      "clip": { ... }, "prior": { ... }, "decoder": { "stage": 0, ... }   configs of new components
    }`;

export async function trainCommand(args: string[], signal: AbortSignal): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      backend: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
  });
  const kind = positionals[0];
  if (kind === undefined || !(TRAIN_KINDS as readonly string[]).includes(kind) || positionals.length > 1) {
    throw new UsageError(
      `train needs one of ${TRAIN_KINDS.join(', ')}, e.g. dalle2 train decoder --config decoder.json`,
    );
  }
  if (values.config === undefined) throw new UsageError(`train ${kind} needs --config FILE (a JSON file)`);
  const file = resolve(values.config);
  const text = await readFile(file, 'utf8').catch(() => {
    throw new UsageError(`cannot read the config file ${values.config}`);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${values.config} is not valid JSON: ${(error as Error).message}`);
  }
  let config: ReturnType<typeof resolveTrainConfig>;
  try {
    config = resolveTrainConfig(json, values.config, dirname(file), (base, path) => resolve(base, path));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const backend = await loadBackend(values.backend);
  const stream = values.quiet ? undefined : process.stderr;
  stream?.write(`backend: ${backend.summary}\n`);
  const context = { ...(stream ? { stream } : {}), signal };
  const run: Record<TrainKind, typeof trainClip> = {
    clip: trainClip,
    prior: trainPrior,
    decoder: trainDecoder,
  };
  await run[kind as TrainKind](config, context);
  process.stdout.write(`${config.model}\n`);
}
