import { AdamW, clipCoefficient, globalGradNorm, warmupCosineSchedule } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import type { CLIPModel } from '../clip-model.js';
import { contrastiveLoss } from '../contrastive-loss.js';
import type { Uint8Image } from '../resize-bicubic.js';
import { BatchOrder } from './batch-order.js';
import { loadCLIPCheckpoint, saveCLIPCheckpoint } from './clip-checkpoint.js';
import { type CLIPTrainerConfig, resolveCLIPTrainerConfig } from './clip-trainer-config.js';
import { multiPositiveContrastiveLoss } from './multi-positive-contrastive-loss.js';
import { ProgressBar, type ProgressBarOptions } from './progress-bar.js';

/** One (image, caption) pair. */
export interface CLIPTrainingExample {
  caption: string;
  /** 8-bit pixels, row-major; `channels` defaults to 3 (RGB). Resized by the model's image processor. */
  image: { width: number; height: number; data: Uint8Array; channels?: number };
}

/** What one optimizer step did. */
export interface CLIPStepInfo {
  /** Steps done, this one included. */
  step: number;
  /** The batch's contrastive loss, before the update. */
  loss: number;
  /** The learning rate of this update. */
  learningRate: number;
  /** The global gradient norm before clipping. */
  gradNorm: number;
  /** exp(logit_scale) after the update: the inverse temperature. */
  logitScale: number;
  /** Wall time of the step. */
  seconds: number;
}

export interface CLIPTrainingSummary {
  /** Steps this call ran (fewer than `config.steps` when it resumed). */
  steps: number;
  /** Their losses, in order. */
  losses: number[];
  seconds: number;
}

export interface CLIPTrainerOptions {
  /** Called after every step; a returned promise is awaited. */
  onStep?: (info: CLIPStepInfo) => void | Promise<void>;
  /** A progress bar on stderr (see {@link ProgressBar}); default true. */
  progress?: boolean | Omit<ProgressBarOptions, 'total'>;
  /** Where `train` writes checkpoints (see {@link saveCLIPCheckpoint}); default none. */
  checkpointPath?: string;
  /** With `checkpointPath`: also write one every this many steps; default 0, only at the end. */
  checkpointEvery?: number;
  /**
   * Whether example `text`'s caption also describes example `image`'s image (indices into the
   * examples). When given, the loss is {@link multiPositiveContrastiveLoss} over the batch's
   * matches, so pairs of the same kind stop being each other's negatives; default: only a pair's
   * own image matches, and the loss is CLIP's `contrastiveLoss`.
   */
  matches?: (text: number, image: number) => boolean;
}

/**
 * Trains a {@link CLIPModel} on (image, caption) pairs with CLIP's symmetric contrastive loss:
 * AdamW (no decay on biases, norms and the temperature), linear warm-up then cosine decay, global
 * gradient-norm clipping, and checkpoints that resume exactly. Captions are tokenised once, with
 * the model's tokenizer; images go through the model's image processor batch by batch.
 *
 * The model stays the caller's; `dispose()` frees the optimizer state.
 */
export class CLIPTrainer {
  readonly config: CLIPTrainerConfig;
  readonly optimizer: AdamW;
  private readonly order: BatchOrder;
  private readonly schedule: (step: number) => number;
  private readonly variables: tf.Variable[];
  private readonly images: Uint8Image[];
  private readonly ids: Int32Array; // [N, L]
  private readonly lengths: Int32Array; // [N] tokens per caption, start and end included
  private readonly contextLength: number;
  private stepsDone = 0;

  constructor(
    readonly model: CLIPModel,
    examples: readonly CLIPTrainingExample[],
    config: Partial<CLIPTrainerConfig> = {},
    readonly options: CLIPTrainerOptions = {},
  ) {
    this.config = resolveCLIPTrainerConfig(config);
    const { checkpointEvery = 0 } = options;
    if (!Number.isSafeInteger(checkpointEvery) || checkpointEvery < 0) {
      throw new Error(`CLIPTrainer: checkpointEvery must be a non-negative integer, got ${checkpointEvery}`);
    }
    if (!Array.isArray(examples) || examples.length === 0)
      throw new Error('CLIPTrainer: expected a non-empty array of examples');
    const tokenizer = model.tokenizer;
    if (tokenizer === undefined) throw new Error('CLIPTrainer: the model needs a tokenizer to read captions');
    this.images = examples.map((example, i) => checkedImage(example, i));
    this.contextLength = model.contextLength;
    const batch = tokenizer.encodeBatch(
      examples.map((example) => example.caption),
      { contextLength: this.contextLength },
    );
    this.ids = batch.ids;
    this.lengths = new Int32Array(examples.length);
    for (let row = 0; row < examples.length; row++) {
      let length = 0;
      for (let t = 0; t < this.contextLength; t++)
        length += batch.attentionMask[row * this.contextLength + t]!;
      this.lengths[row] = length;
    }

    const { batchSize, steps, learningRate, minLearningRate, warmupSteps, weightDecay, betas, eps, seed } =
      this.config;
    this.order = new BatchOrder(examples.length, batchSize, seed);
    this.schedule = warmupCosineSchedule({
      baseLr: learningRate,
      minLr: minLearningRate,
      warmupSteps,
      totalSteps: steps,
    });
    this.variables = model.trainableVariables();
    this.optimizer = new AdamW(model, {
      lr: learningRate,
      betas,
      eps,
      weightDecay,
      decays: (_, variable) => variable.rank >= 2,
    });
  }

  /** Optimizer steps done so far (restored by {@link loadCheckpoint}). */
  get step(): number {
    return this.stepsDone;
  }

  /** The learning rate of the update after `step` earlier ones (transformers' convention: 0 first). */
  learningRateAt(step: number): number {
    return this.schedule(step);
  }

  /** The example indices that step `step` (0-based) trains on. */
  batchIndices(step: number): number[] {
    return this.order.indices(step);
  }

  /** One optimizer step on the next batch. */
  async trainStep(): Promise<CLIPStepInfo> {
    const start = performance.now();
    const learningRate = this.schedule(this.stepsDone);
    this.optimizer.setLearningRate(learningRate);
    const batch = this.batch(this.stepsDone);
    let stats: tf.Tensor1D;
    try {
      stats = this.update(batch);
    } finally {
      tf.dispose([batch.ids, batch.attentionMask, batch.images, ...(batch.matches ? [batch.matches] : [])]);
    }
    let values: Float32Array;
    try {
      values = (await stats.data()) as Float32Array;
    } finally {
      stats.dispose();
    }
    this.stepsDone += 1;
    const info: CLIPStepInfo = {
      step: this.stepsDone,
      loss: values[0]!,
      learningRate,
      gradNorm: values[1]!,
      logitScale: values[2]!,
      seconds: (performance.now() - start) / 1000,
    };
    if (!Number.isFinite(info.loss))
      throw new Error(`CLIPTrainer: the loss is ${info.loss} at step ${info.step}`);
    await this.options.onStep?.(info);
    return info;
  }

  /**
   * Trains from the current step to `config.steps`, with the progress bar and checkpoints the
   * options ask for. A trainer restored with {@link loadCheckpoint} carries on where it stopped.
   */
  async train(): Promise<CLIPTrainingSummary> {
    const { progress = true, checkpointPath, checkpointEvery = 0 } = this.options;
    const total = this.config.steps;
    const bar =
      progress === false ? undefined : new ProgressBar({ ...(progress === true ? {} : progress), total });
    bar?.start(this.stepsDone);
    const start = performance.now();
    const losses: number[] = [];
    try {
      while (this.stepsDone < total) {
        const info = await this.trainStep();
        losses.push(info.loss);
        bar?.update(info.step, { loss: info.loss, lr: info.learningRate, scale: info.logitScale });
        const due = checkpointEvery > 0 && info.step % checkpointEvery === 0 && info.step < total;
        if (checkpointPath !== undefined && due) await this.saveCheckpoint(checkpointPath);
      }
      if (checkpointPath !== undefined && losses.length > 0) await this.saveCheckpoint(checkpointPath);
    } finally {
      bar?.finish();
    }
    return { steps: losses.length, losses, seconds: (performance.now() - start) / 1000 };
  }

  /** Writes the model, the optimizer state and the step to one safetensors file, atomically. Node only. */
  async saveCheckpoint(path = this.options.checkpointPath): Promise<void> {
    if (path === undefined)
      throw new Error('CLIPTrainer.saveCheckpoint: no path given and no checkpointPath option');
    await saveCLIPCheckpoint(path, {
      model: this.model,
      optimizer: this.optimizer,
      step: this.stepsDone,
      trainerConfig: this.config,
    });
  }

  /** Restores a checkpoint written by {@link saveCheckpoint}; training goes on from its step. Node only. */
  async loadCheckpoint(path = this.options.checkpointPath): Promise<void> {
    if (path === undefined)
      throw new Error('CLIPTrainer.loadCheckpoint: no path given and no checkpointPath option');
    const { step } = await loadCLIPCheckpoint(path, { model: this.model, optimizer: this.optimizer });
    this.stepsDone = step;
  }

  dispose(): void {
    this.optimizer.dispose();
  }

  /** Gradients, clipping and the AdamW update; returns [loss, gradient norm, logit scale]. */
  private update({ ids, attentionMask, images, matches }: Batch): tf.Tensor1D {
    const { value, grads } = tf.variableGrads(() => {
      const { logitsPerText } = this.model.forward({ text: ids, attentionMask, images });
      return matches ? multiPositiveContrastiveLoss(logitsPerText, matches) : contrastiveLoss(logitsPerText);
    }, this.variables);
    const owned: tf.Tensor[] = [value, ...Object.values(grads)];
    try {
      let gradNorm: tf.Scalar;
      if (this.config.maxGradNorm > 0) {
        // The clipping factor is applied inside the AdamW update, without a scaled copy of each gradient.
        const { coefficient, totalNorm } = clipCoefficient(grads, this.config.maxGradNorm);
        owned.push(coefficient, totalNorm);
        gradNorm = totalNorm;
        this.optimizer.step(grads, { gradScale: coefficient });
      } else {
        gradNorm = globalGradNorm(grads);
        owned.push(gradNorm);
        this.optimizer.step(grads);
      }
      return tf.tidy(() => tf.stack([value, gradNorm, this.model.logitScale()]) as tf.Tensor1D);
    } finally {
      tf.dispose(owned);
    }
  }

  /** Ids [B, T] (T: the longest caption in the batch), mask [B, T], images [B, S, S, 3] and matches [B, B]. */
  private batch(step: number): Batch {
    const rows = this.order.indices(step);
    let length = 0;
    for (const row of rows) length = Math.max(length, this.lengths[row]!);
    // Past the longest caption there is only padding, which no kept position attends to.
    const ids = new Int32Array(rows.length * length);
    const mask = new Float32Array(rows.length * length);
    rows.forEach((row, r) => {
      ids.set(this.ids.subarray(row * this.contextLength, row * this.contextLength + length), r * length);
      mask.fill(1, r * length, r * length + this.lengths[row]!);
    });
    const images = this.model.imageProcessor.preprocessImages(rows.map((row) => this.images[row]!));
    let matches: tf.Tensor2D | undefined;
    const isMatch = this.options.matches;
    if (isMatch !== undefined) {
      const values = new Float32Array(rows.length * rows.length);
      rows.forEach((text, t) => {
        rows.forEach((image, i) => {
          values[t * rows.length + i] = t === i || isMatch(text, image) ? 1 : 0;
        });
      });
      matches = tf.tensor2d(values, [rows.length, rows.length]);
    }
    return {
      ids: tf.tensor2d(ids, [rows.length, length], 'int32'),
      attentionMask: tf.tensor2d(mask, [rows.length, length], 'float32'),
      images,
      ...(matches === undefined ? {} : { matches }),
    };
  }
}

interface Batch {
  ids: tf.Tensor2D; // [B, T]
  attentionMask: tf.Tensor2D; // [B, T]
  images: tf.Tensor4D; // [B, S, S, 3]
  matches?: tf.Tensor2D; // [B, B]
}

function checkedImage(example: CLIPTrainingExample, index: number): Uint8Image {
  if (typeof example?.caption !== 'string')
    throw new Error(`CLIPTrainer: examples[${index}].caption must be a string`);
  const image = example.image;
  const channels = image?.channels ?? 3;
  if (
    image === undefined ||
    !Number.isInteger(image.width) ||
    !Number.isInteger(image.height) ||
    image.width < 1 ||
    image.height < 1 ||
    !(image.data instanceof Uint8Array) ||
    image.data.length !== image.width * image.height * channels
  ) {
    throw new Error(
      `CLIPTrainer: examples[${index}].image must be { width, height, data: Uint8Array of width * height * ${channels} }`,
    );
  }
  return { width: image.width, height: image.height, channels, data: image.data };
}
