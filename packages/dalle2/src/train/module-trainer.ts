import {
  AdamW,
  EMA,
  loadTrainingCheckpoint,
  type Module,
  type OptimizerConfig,
  saveTrainingCheckpoint,
  TorchGenerator,
  type TrainingState,
  trainStep,
  warmupCosineSchedule,
} from '@dalle2js/core';
import type * as tf from '@tensorflow/tfjs-core';

export type { OptimizerConfig };

export const defaultOptimizerConfig: Readonly<OptimizerConfig> = Object.freeze({
  lr: 1e-4,
  betas: [0.9, 0.999] as [number, number],
  weightDecay: 0.01,
  emaDecay: 0.999,
  maxGradNorm: 1,
  warmupSteps: 0,
  totalSteps: null,
  seed: 0,
});

export interface TrainingProgress {
  /** Optimizer steps done. */
  step: number;
  loss: number;
  lr: number;
}

const CHECKPOINT_FORMAT = 'dalle2js-module-trainer-v1';

/**
 * Trains any `Module` on a loss with AdamW, gradient clipping, warmup (+ cosine) and an EMA of the
 * weights. The loss draws its batch, timesteps and noise from the trainer's generator, whose state
 * the checkpoint keeps, so a resumed run continues exactly as the uninterrupted one would have.
 */
export class ModuleTrainer {
  readonly config: Readonly<OptimizerConfig>;
  readonly optimizer: AdamW;
  readonly ema: EMA;
  readonly generator: TorchGenerator;
  private steps = 0;
  private readonly lrAt: (step: number) => number;

  constructor(
    readonly module: Module,
    config: OptimizerConfig,
    /** Written into checkpoints and checked on load: the module's own config. */
    readonly moduleConfig: unknown = null,
  ) {
    this.config = Object.freeze({ ...config });
    const { lr, betas, weightDecay, emaDecay, warmupSteps, totalSteps, seed } = this.config;
    this.optimizer = new AdamW(module, { lr, betas, weightDecay });
    this.ema = new EMA(module, { decay: emaDecay, warmup: true });
    this.generator = new TorchGenerator(seed);
    this.lrAt = warmupCosineSchedule({ baseLr: lr, warmupSteps, totalSteps });
  }

  get step(): number {
    return this.steps;
  }

  /** One optimizer step on the loss that `lossFn` computes (drawing from `generator`). */
  async trainStep(lossFn: (generator: TorchGenerator) => tf.Scalar): Promise<TrainingProgress> {
    const lr = this.lrAt(this.steps);
    this.optimizer.setLearningRate(lr);
    const clip = this.config.maxGradNorm ?? undefined;
    const loss = await trainStep(this.module, () => lossFn(this.generator), this.optimizer, { clip });
    if (!Number.isFinite(loss))
      throw new Error(`the loss is ${loss} at step ${this.steps + 1}: lower lr or maxGradNorm`);
    this.ema.update();
    this.steps += 1;
    return { step: this.steps, loss, lr };
  }

  /** Runs `fn` with the EMA weights in the module, then puts the trained weights back. */
  async withEmaWeights<T>(fn: () => T | Promise<T>): Promise<T> {
    this.ema.swap();
    try {
      return await fn();
    } finally {
      this.ema.swap();
    }
  }

  /** Writes a checkpoint atomically: weights, EMA, optimizer state, step and generator. Node only. */
  async save(path: string): Promise<void> {
    await saveTrainingCheckpoint(
      path,
      { ...this.trainingState(), step: this.steps },
      {
        format: CHECKPOINT_FORMAT,
        module_config: JSON.stringify(this.moduleConfig),
        trainer_config: JSON.stringify(this.config),
      },
    );
  }

  /** Restores a checkpoint that `save` wrote for a module of the same config. Node only. */
  async load(path: string): Promise<void> {
    const { step } = await loadTrainingCheckpoint(path, this.trainingState(), (metadata) => {
      if (metadata.format !== CHECKPOINT_FORMAT) {
        throw new Error(`${path} is not a dalle2js training checkpoint (format "${metadata.format}")`);
      }
      if (metadata.module_config !== JSON.stringify(this.moduleConfig)) {
        throw new Error(
          `${path} was written for another model config; delete it or use another "out" folder`,
        );
      }
    });
    this.steps = step;
  }

  private trainingState(): TrainingState {
    return { module: this.module, ema: this.ema, optimizer: this.optimizer, generator: this.generator };
  }

  /** Disposes the optimizer and EMA state (not the module). */
  dispose(): void {
    this.optimizer.dispose();
    this.ema.dispose();
  }
}
