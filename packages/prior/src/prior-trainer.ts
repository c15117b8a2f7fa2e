import {
  AdamW,
  EMA,
  loadTrainingCheckpoint,
  type OptimizerConfig,
  saveTrainingCheckpoint,
  TorchGenerator,
  type TrainingState,
  trainStep,
  warmupCosineSchedule,
} from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import type { DiffusionPrior } from './diffusion-prior.js';
import {
  checkEmbeddingBatch,
  disposeEmbeddingBatch,
  type EmbeddingBatch,
  gatherEmbeddingBatch,
} from './embedding-batch.js';

/**
 * Training hyperparameters. Defaults are the DALL-E 2 paper's prior settings where it gives them:
 * lr 1.1e-4, betas [0.9, 0.96], weight decay 6e-2 (on matrices), EMA decay 0.9999; then gradient
 * norm clipped to 1, no warm-up, a constant learning rate, batch 64, seed 0.
 */
export interface PriorTrainerConfig extends OptimizerConfig {
  /** Examples per step in `fit`. */
  batchSize: number;
}

export const defaultPriorTrainerConfig: Readonly<PriorTrainerConfig> = Object.freeze({
  lr: 1.1e-4,
  betas: [0.9, 0.96] as [number, number],
  weightDecay: 6e-2,
  emaDecay: 0.9999,
  maxGradNorm: 1,
  warmupSteps: 0,
  totalSteps: null,
  batchSize: 64,
  seed: 0,
});

/** Fills in the defaults and checks every field once. */
export function resolvePriorTrainerConfig(config: Partial<PriorTrainerConfig> = {}): PriorTrainerConfig {
  const known = Object.keys(defaultPriorTrainerConfig);
  for (const key of Object.keys(config)) {
    if (!known.includes(key))
      throw new Error(`PriorTrainer: unknown config field "${key}"; valid: ${known.join(', ')}`);
  }
  const c = { ...defaultPriorTrainerConfig, ...config };
  const fail = (field: string, rule: string, value: unknown) => {
    throw new Error(`PriorTrainer: ${field} must be ${rule}, got ${JSON.stringify(value)}`);
  };
  if (!(c.lr > 0)) fail('lr', 'a positive number', c.lr);
  if (!(c.emaDecay >= 0 && c.emaDecay <= 1)) fail('emaDecay', 'in [0, 1]', c.emaDecay);
  if (c.maxGradNorm !== null && !(c.maxGradNorm > 0))
    fail('maxGradNorm', 'a positive number or null', c.maxGradNorm);
  if (!Number.isInteger(c.warmupSteps) || c.warmupSteps < 0)
    fail('warmupSteps', 'a non-negative integer', c.warmupSteps);
  if (c.totalSteps !== null && !(Number.isInteger(c.totalSteps) && c.totalSteps >= c.warmupSteps)) {
    fail('totalSteps', 'null or an integer >= warmupSteps', c.totalSteps);
  }
  if (!Number.isInteger(c.batchSize) || c.batchSize < 1) fail('batchSize', 'a positive integer', c.batchSize);
  if (!Number.isSafeInteger(c.seed)) fail('seed', 'a safe integer', c.seed);
  return c;
}

/** What `onProgress` reports after each step. */
export interface PriorTrainingProgress {
  /** Steps done in total (including those before a resume). */
  step: number;
  /** The loss of this step, before its update. */
  loss: number;
  /** The learning rate this step used. */
  lr: number;
}

export interface PriorFitOptions {
  /** Number of steps to run. */
  steps: number;
  onProgress?: (progress: PriorTrainingProgress) => void;
  /** Stops between steps; the steps done so far are kept. */
  signal?: AbortSignal;
}

const CHECKPOINT_FORMAT = 'dalle2js-prior-trainer-v1';

/**
 * Trains a `DiffusionPrior` on (text embedding, text encodings, image embedding) triples with
 * AdamW, gradient clipping and an EMA of the weights; checkpoints hold everything needed to resume
 * exactly: weights, EMA, optimizer state, step and generator state.
 */
export class PriorTrainer {
  readonly config: Readonly<PriorTrainerConfig>;
  readonly optimizer: AdamW;
  readonly ema: EMA;
  /** Draws minibatches, timesteps, noise and conditioning drops. */
  readonly generator: TorchGenerator;
  private steps = 0;
  private readonly lrAt: (step: number) => number;

  constructor(
    readonly prior: DiffusionPrior,
    config: Partial<PriorTrainerConfig> = {},
  ) {
    this.config = Object.freeze(resolvePriorTrainerConfig(config));
    const { lr, betas, weightDecay, emaDecay, warmupSteps, totalSteps, seed } = this.config;
    this.optimizer = new AdamW(prior.network, { lr, betas, weightDecay });
    this.ema = new EMA(prior.network, { decay: emaDecay, warmup: true });
    this.generator = new TorchGenerator(seed);
    this.lrAt = warmupCosineSchedule({ baseLr: lr, warmupSteps, totalSteps });
  }

  /** Optimizer steps taken so far. */
  get step(): number {
    return this.steps;
  }

  /** One optimizer step on `batch` (which stays the caller's); resolves to its loss. */
  async trainStep(batch: EmbeddingBatch): Promise<PriorTrainingProgress> {
    const lr = this.lrAt(this.steps);
    this.optimizer.setLearningRate(lr);
    const clip = this.config.maxGradNorm ?? undefined;
    const loss = await trainStep(
      this.prior.network,
      () => this.prior.loss(batch, { generator: this.generator }),
      this.optimizer,
      { clip },
    );
    this.ema.update();
    this.steps += 1;
    return { step: this.steps, loss, lr };
  }

  /**
   * `steps` steps on minibatches of `batchSize` rows drawn uniformly (with replacement) from `data`
   * by the trainer's generator, so a resumed run draws what the uninterrupted one would have.
   * Resolves to the progress of the last step.
   */
  async fit(data: EmbeddingBatch, options: PriorFitOptions): Promise<PriorTrainingProgress | undefined> {
    const { steps, onProgress, signal } = options;
    if (!Number.isInteger(steps) || steps < 0) {
      throw new Error(`PriorTrainer.fit: steps must be a non-negative integer, got ${steps}`);
    }
    const { count } = checkEmbeddingBatch(data, 'PriorTrainer.fit');
    if (count === 0) throw new Error('PriorTrainer.fit: the data has no rows');
    let last: PriorTrainingProgress | undefined;
    for (let i = 0; i < steps && !signal?.aborted; i++) {
      const rows = Int32Array.from(this.generator.uniform(this.config.batchSize), (u) =>
        Math.min(count - 1, Math.floor(u * count)),
      );
      const indices = tf.tensor1d(rows, 'int32');
      const batch = gatherEmbeddingBatch(data, indices);
      indices.dispose();
      try {
        last = await this.trainStep(batch);
      } finally {
        disposeEmbeddingBatch(batch);
      }
      onProgress?.(last);
    }
    return last;
  }

  /** Runs `fn` with the EMA weights in the prior, then puts the trained weights back. */
  async withEmaWeights<T>(fn: () => T | Promise<T>): Promise<T> {
    this.ema.swap();
    try {
      return await fn();
    } finally {
      this.ema.swap();
    }
  }

  /** Writes a checkpoint atomically (temporary file + rename). Node only. */
  async save(path: string): Promise<void> {
    await saveTrainingCheckpoint(
      path,
      { ...this.trainingState(), step: this.steps },
      {
        format: CHECKPOINT_FORMAT,
        prior_config: JSON.stringify(this.prior.config),
        trainer_config: JSON.stringify(this.config),
      },
    );
  }

  /** Restores a checkpoint that `save` wrote into this trainer and its prior. Node only. */
  async load(path: string): Promise<void> {
    const { step } = await loadTrainingCheckpoint(path, this.trainingState(), (metadata) => {
      if (metadata.format !== CHECKPOINT_FORMAT) {
        throw new Error(
          `PriorTrainer.load: ${path} is not a prior trainer checkpoint (format "${metadata.format}")`,
        );
      }
      if (metadata.prior_config !== JSON.stringify(this.prior.config)) {
        throw new Error(
          `PriorTrainer.load: ${path} was written for prior config ${metadata.prior_config}, this prior has ${JSON.stringify(this.prior.config)}`,
        );
      }
    });
    this.steps = step;
  }

  private trainingState(): TrainingState {
    return {
      module: this.prior.network,
      ema: this.ema,
      optimizer: this.optimizer,
      generator: this.generator,
    };
  }

  /** Disposes the optimizer and EMA state (not the prior). */
  dispose(): void {
    this.optimizer.dispose();
    this.ema.dispose();
  }
}
