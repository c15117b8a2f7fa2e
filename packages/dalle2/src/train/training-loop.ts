import { writeFileAtomic } from '@dalle2js/core';
import { ProgressBar, type ProgressStream } from '../cli/progress-bar.js';
import { lossCurveSvg } from './loss-curve-svg.js';
import type { TrainingProgress } from './module-trainer.js';
import { TrainingLog } from './training-log.js';

/** What the loop needs of a trainer: `ModuleTrainer` and the prior package's `PriorTrainer` both fit. */
export interface ResumableTrainer {
  readonly step: number;
  save(path: string): Promise<void>;
  load(path: string): Promise<void>;
}

export interface TrainingLoopOptions {
  trainer: ResumableTrainer;
  /** One optimizer step. */
  step: () => Promise<TrainingProgress>;
  /** Steps to reach. */
  steps: number;
  checkpointEvery: number;
  /** 0 = only at the end. */
  sampleEvery: number;
  /** The run folder. */
  out: string;
  resume: boolean;
  /** After each checkpoint: write the (EMA) component into the model folder. */
  publish: () => Promise<void>;
  /** Periodic samples: writes what it makes under `samplesDir` and returns metrics to log. */
  sample: (step: number, samplesDir: string) => Promise<Record<string, unknown>>;
  label: string;
  stream?: ProgressStream;
  signal?: AbortSignal;
}

export const CHECKPOINT_FILE = 'checkpoint.safetensors';

/**
 * Runs a trainer to `steps`: resumes from the run folder's checkpoint, logs every step to
 * log.jsonl, checkpoints atomically (and publishes the component) every `checkpointEvery` steps
 * and at the end, redraws loss.svg, and samples every `sampleEvery` steps. An abort saves a
 * checkpoint first, so the same command resumes where it stopped.
 */
export async function runTrainingLoop(options: TrainingLoopOptions): Promise<void> {
  const { trainer, steps, out, stream, signal } = options;
  const { mkdir, stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const samplesDir = join(out, 'samples');
  await mkdir(samplesDir, { recursive: true });
  const checkpoint = join(out, CHECKPOINT_FILE);
  const hasCheckpoint = await stat(checkpoint).then(
    () => true,
    () => false,
  );
  if (options.resume && hasCheckpoint) {
    await trainer.load(checkpoint);
    stream?.write(`resuming from ${checkpoint} at step ${trainer.step}\n`);
  }
  const log = await TrainingLog.open(join(out, 'log.jsonl'), trainer.step);
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 10) / 100;
  const bar = stream && new ProgressBar(options.label, steps, stream);
  bar?.update(trainer.step);
  let saved = trainer.step;
  const save = async () => {
    await trainer.save(checkpoint);
    await options.publish();
    const points = log.all.filter((e) => typeof e.loss === 'number') as { step: number; loss: number }[];
    await writeFileAtomic(
      join(out, 'loss.svg'),
      new TextEncoder().encode(lossCurveSvg(points, options.label)),
    );
    saved = trainer.step;
  };
  try {
    while (trainer.step < steps) {
      signal?.throwIfAborted();
      const progress = await options.step();
      await log.append({ step: progress.step, loss: progress.loss, lr: progress.lr, seconds: seconds() });
      bar?.update(progress.step, `loss ${progress.loss.toFixed(4)}`);
      const last = progress.step >= steps;
      if (last || progress.step % options.checkpointEvery === 0) await save();
      if (last || (options.sampleEvery > 0 && progress.step % options.sampleEvery === 0)) {
        const metrics = await options.sample(progress.step, samplesDir);
        await log.append({ step: progress.step, event: 'sample', seconds: seconds(), ...metrics });
      }
    }
    if (saved !== trainer.step) await save();
  } catch (error) {
    if (signal?.aborted && saved !== trainer.step) {
      await save();
      stream?.write(`\nstopped at step ${trainer.step}; checkpoint saved: run the same command to resume\n`);
    }
    throw error;
  } finally {
    bar?.done();
  }
}
