import { defaultGenerator, type Rng } from '@dalle2js/core';
import {
  addNoise,
  applyGuidance,
  DDIMScheduler,
  DDPMScheduler,
  diffusionLoss,
  NoiseSchedule,
  type Scheduler,
  sample,
} from '@dalle2js/diffusion';
import * as tf from '@tensorflow/tfjs-core';
import {
  DiffusionPriorNetwork,
  type DiffusionPriorNetworkConfig,
  type DiffusionPriorNetworkInputs,
  resolveDiffusionPriorNetworkConfig,
} from './diffusion-prior-network.js';
import { checkEmbeddingBatch, type EmbeddingBatch, type EmbeddingBatchShape } from './embedding-batch.js';
import { l2Normalize } from './l2-normalize.js';

/** What the network is trained to predict. */
export type PriorPrediction = 'x0' | 'epsilon';
export const PRIOR_PREDICTIONS: readonly PriorPrediction[] = ['x0', 'epsilon'];

/** How the prior samples: ancestral DDPM over every training step, or DDIM over a few. */
export type PriorSampler = 'ddpm' | 'ddim';
export const PRIOR_SAMPLERS: readonly PriorSampler[] = ['ddpm', 'ddim'];

export interface DiffusionPriorConfig {
  /** The transformer; see `DiffusionPriorNetworkConfig` for its defaults. */
  network: Partial<DiffusionPriorNetworkConfig>;
  /** Training diffusion steps T. Default 100 (the DALL-E 2 paper's prior). */
  numTrainTimesteps: number;
  /** Noise schedule name from the diffusion package. Default 'cosine'. */
  betaSchedule: 'cosine' | 'linear';
  /** Default 'x0': the paper predicts the unnoised image embedding directly. */
  prediction: PriorPrediction;
  /**
   * Probability of replacing a training example's text conditioning (embedding and encodings)
   * by the learned null tokens, for classifier-free guidance. Default 0.1.
   */
  condDropProb: number;
  /**
   * Embeddings are L2-normalised and multiplied by this for the diffusion, so that each component
   * has about unit variance like the noise. Default null = sqrt(dim).
   */
  embedScale: number | null;
}

export const defaultDiffusionPriorConfig: Readonly<Omit<DiffusionPriorConfig, 'network'>> = Object.freeze({
  numTrainTimesteps: 100,
  betaSchedule: 'cosine',
  prediction: 'x0',
  condDropProb: 0.1,
  embedScale: null,
});

export interface ResolvedDiffusionPriorConfig extends Omit<DiffusionPriorConfig, 'network'> {
  network: DiffusionPriorNetworkConfig;
}

const BETA_SCHEDULES = ['cosine', 'linear'] as const;

/** Fills in the defaults and checks every field once; errors list the valid values. */
export function resolveDiffusionPriorConfig(
  config: Partial<DiffusionPriorConfig> | ResolvedDiffusionPriorConfig = {},
): ResolvedDiffusionPriorConfig {
  const known = ['network', ...Object.keys(defaultDiffusionPriorConfig)];
  for (const key of Object.keys(config)) {
    if (!known.includes(key)) {
      throw new Error(`DiffusionPrior: unknown config field "${key}"; valid: ${known.join(', ')}`);
    }
  }
  const resolved: ResolvedDiffusionPriorConfig = {
    ...defaultDiffusionPriorConfig,
    ...config,
    network: resolveDiffusionPriorNetworkConfig(config.network ?? {}),
  };
  const { numTrainTimesteps, betaSchedule, prediction, condDropProb, embedScale } = resolved;
  if (!Number.isInteger(numTrainTimesteps) || numTrainTimesteps < 2) {
    throw new Error(`DiffusionPrior: numTrainTimesteps must be an integer >= 2, got ${numTrainTimesteps}`);
  }
  if (!BETA_SCHEDULES.includes(betaSchedule)) {
    throw new Error(
      `DiffusionPrior: unknown betaSchedule "${betaSchedule}"; valid: ${BETA_SCHEDULES.join(', ')}`,
    );
  }
  if (!PRIOR_PREDICTIONS.includes(prediction)) {
    throw new Error(
      `DiffusionPrior: unknown prediction "${prediction}"; valid: ${PRIOR_PREDICTIONS.join(', ')}`,
    );
  }
  if (!(condDropProb >= 0 && condDropProb < 1)) {
    throw new Error(`DiffusionPrior: condDropProb must be in [0, 1), got ${condDropProb}`);
  }
  if (embedScale !== null && !(embedScale > 0 && Number.isFinite(embedScale))) {
    throw new Error(
      `DiffusionPrior: embedScale must be a positive number or null (= sqrt(dim)), got ${embedScale}`,
    );
  }
  return resolved;
}

/** The text conditioning the network reads, in diffusion space. */
export type PriorConditioning = Pick<DiffusionPriorNetworkInputs, 'textEmbed' | 'textEncodings' | 'textMask'>;

export interface PriorLossOptions {
  /** Draws the timesteps, the noise and the conditioning drops. Default: the global generator. */
  generator?: Rng;
}

export interface PriorSampleOptions {
  /** [B, L, W] CLIP text encodings, L <= numTextTokens. */
  textEncodings?: tf.Tensor;
  /** [B, L], 1 = real token. */
  textMask?: tf.Tensor;
  /** Denoising steps; default numTrainTimesteps for DDPM, the largest divisor of it up to 64 for DDIM (50 for T = 100). */
  steps?: number;
  /** Default 'ddpm'. */
  sampler?: PriorSampler;
  /** Classifier-free guidance: null + s * (cond - null); 1 = the conditional prediction. Default 1. */
  guidanceScale?: number;
  /** DDIM's eta (0 = deterministic). Default 0. */
  eta?: number;
  /** Default: the global generator. */
  generator?: Rng;
  /**
   * Draw this many candidates per prompt and keep the one with the highest cosine similarity to
   * the text embedding (the paper uses 2). Default 1.
   */
  samplesPerPrompt?: number;
  /**
   * Move each step's x0 estimate onto the sphere of radius embedScale, where the training
   * embeddings lie (see `predict`). Default true.
   */
  renormalize?: boolean;
  /** Called after each denoising step with (steps done, total steps). */
  onProgress?: (step: number, total: number) => void;
  /** Aborting rejects with the signal's reason at the next step boundary. */
  signal?: AbortSignal;
}

/**
 * The DALL-E 2 diffusion prior: generates a CLIP image embedding from a CLIP text embedding (and
 * optionally the text encodings) with a Gaussian diffusion over the embedding, whose denoiser is a
 * `DiffusionPriorNetwork`.
 */
export class DiffusionPrior {
  readonly config: Readonly<ResolvedDiffusionPriorConfig>;
  readonly network: DiffusionPriorNetwork;
  readonly dim: number;
  /** The factor applied to unit-norm embeddings for the diffusion. */
  readonly embedScale: number;
  /** The forward process the network was trained on. */
  readonly schedule: NoiseSchedule;

  constructor(
    config: Partial<DiffusionPriorConfig> = {},
    options: { rng?: Rng; network?: DiffusionPriorNetwork } = {},
  ) {
    const resolved = resolveDiffusionPriorConfig(config);
    this.config = Object.freeze(resolved);
    this.network = options.network ?? new DiffusionPriorNetwork(resolved.network, { rng: options.rng });
    this.dim = resolved.network.dim;
    this.embedScale = resolved.embedScale ?? Math.sqrt(this.dim);
    this.schedule = new NoiseSchedule({
      betaSchedule: resolved.betaSchedule,
      numTrainTimesteps: resolved.numTrainTimesteps,
    });
  }

  /**
   * The training loss on a batch: mean squared error between the network's prediction and the
   * target (x0 or the noise) at a uniformly drawn timestep, with the text conditioning dropped with
   * probability condDropProb. Returns a scalar the caller owns; run it under `tf.variableGrads`.
   */
  loss(batch: EmbeddingBatch, options: PriorLossOptions = {}): tf.Scalar {
    const { count } = this.checkBatch(batch);
    const generator = options.generator ?? defaultGenerator();
    const T = this.config.numTrainTimesteps;
    const timesteps = Int32Array.from(generator.uniform(count), (u) => Math.min(T - 1, Math.floor(u * T)));
    const keep = Float32Array.from(generator.uniform(count), (u) => (u < this.config.condDropProb ? 0 : 1));
    const noiseValues = generator.normal(count * this.dim);
    return tf.tidy(() => {
      const x0 = this.toDiffusionSpace(batch.imageEmbeds); // [B, D]
      const noise = tf.tensor2d(noiseValues, [count, this.dim]); // [B, D]
      const t = tf.tensor1d(timesteps, 'int32'); // [B]
      const noised = addNoise(this.schedule, x0, noise, t); // [B, D]
      const prediction = this.network.apply({
        imageEmbed: noised,
        timesteps: t,
        textEmbed: this.toDiffusionSpace(batch.textEmbeds),
        textEncodings: batch.textEncodings,
        textMask: batch.textMask,
        textKeep: tf.tensor1d(keep),
      }); // [B, D]
      const target = this.config.prediction === 'x0' ? x0 : noise;
      return diffusionLoss(prediction, target);
    });
  }

  /**
   * The network's output for noised embeddings `x` [B, D] (diffusion space) at one timestep, with
   * the text conditioning, or with the learned null conditioning when `conditional` is false.
   */
  denoise(x: tf.Tensor, timestep: number, conditioning: PriorConditioning, conditional = true): tf.Tensor {
    return tf.tidy(() => {
      const b = x.shape[0] as number;
      return this.network.apply({
        ...conditioning,
        imageEmbed: x,
        timesteps: tf.fill([b], timestep, 'int32'),
        textKeep: conditional ? undefined : tf.zeros([b]),
      });
    });
  }

  /**
   * Classifier-free guidance: null + guidanceScale * (cond - null), from one network pass over the
   * [cond; null] rows. With guidanceScale 1 only the conditional pass runs.
   */
  guidedOutput(
    x: tf.Tensor,
    timestep: number,
    conditioning: PriorConditioning,
    guidanceScale: number,
  ): tf.Tensor {
    if (guidanceScale === 1) return this.denoise(x, timestep, conditioning);
    return tf.tidy(() => {
      const b = x.shape[0] as number;
      const twice = (t: tf.Tensor | undefined) => (t === undefined ? undefined : tf.concat([t, t], 0));
      const both = this.network.apply({
        imageEmbed: twice(x)!,
        timesteps: tf.fill([2 * b], timestep, 'int32'),
        textEmbed: twice(conditioning.textEmbed)!,
        textEncodings: twice(conditioning.textEncodings),
        textMask: twice(conditioning.textMask),
        textKeep: tf.concat([tf.ones([b]), tf.zeros([b])]),
      }); // [2B, D]
      const [cond, uncond] = tf.split(both, 2, 0) as [tf.Tensor, tf.Tensor];
      return applyGuidance(cond, uncond, guidanceScale);
    });
  }

  /**
   * What the sampler steps with: the guided output, and with `renormalize` the x0 it implies moved
   * onto the sphere of radius embedScale (where every training embedding lies), expressed again
   * as the network's target. This keeps early epsilon steps, whose x0 = (x - sqrt(1 - abar) eps) /
   * sqrt(abar) divides by a tiny sqrt(abar), from blowing the sample up.
   */
  predict(
    x: tf.Tensor,
    timestep: number,
    conditioning: PriorConditioning,
    options: { guidanceScale?: number; renormalize?: boolean } = {},
  ): tf.Tensor {
    const { guidanceScale = 1, renormalize = true } = options;
    return tf.tidy(() => {
      const output = this.guidedOutput(x, timestep, conditioning, guidanceScale);
      if (!renormalize) return output;
      if (this.config.prediction === 'x0') return tf.mul(l2Normalize(output), this.embedScale);
      const signal = Math.sqrt(this.schedule.alphaCumprod(timestep));
      const noise = Math.sqrt(1 - this.schedule.alphaCumprod(timestep));
      const x0 = tf.mul(l2Normalize(tf.sub(x, tf.mul(output, noise))), this.embedScale); // [B, D]
      return tf.div(tf.sub(x, tf.mul(x0, signal)), noise);
    });
  }

  /** A fresh scheduler for `sampler` over `steps` of the training schedule. */
  scheduler(sampler: PriorSampler, steps: number, eta = 0): Scheduler {
    const T = this.config.numTrainTimesteps;
    if (!PRIOR_SAMPLERS.includes(sampler)) {
      throw new Error(`DiffusionPrior: unknown sampler "${sampler}"; valid: ${PRIOR_SAMPLERS.join(', ')}`);
    }
    if (!Number.isInteger(steps) || steps < 1 || steps > T) {
      throw new Error(`DiffusionPrior: steps must be an integer in [1, ${T}], got ${steps}`);
    }
    // DDIM steps back by T / steps from each timestep, so that must be a whole number.
    if (sampler === 'ddim' && T % steps !== 0) {
      throw new Error(`DiffusionPrior: DDIM steps must divide numTrainTimesteps (${T}), got ${steps}`);
    }
    const config = {
      betaSchedule: this.config.betaSchedule,
      numTrainTimesteps: T,
      predictionType: this.config.prediction === 'x0' ? ('sample' as const) : ('epsilon' as const),
      // Scaled embeddings have components of about unit size: clipping x0 to [-1, 1] would distort them.
      clipSample: false,
      // Start from the noisiest training step whatever the number of steps.
      timestepSpacing: 'trailing' as const,
    };
    const scheduler = sampler === 'ddpm' ? new DDPMScheduler(config) : new DDIMScheduler({ ...config, eta });
    scheduler.setTimesteps(steps);
    return scheduler;
  }

  /**
   * Samples image embeddings for text embeddings [B, D] (plus, optionally, the text encodings):
   * returns unit-norm image embeddings [B, D] that the caller owns.
   */
  async sample(textEmbed: tf.Tensor, options: PriorSampleOptions = {}): Promise<tf.Tensor> {
    const {
      textEncodings,
      textMask,
      sampler = 'ddpm',
      guidanceScale = 1,
      eta = 0,
      generator = defaultGenerator(),
      samplesPerPrompt = 1,
      renormalize = true,
      onProgress,
      signal,
    } = options;
    const T = this.config.numTrainTimesteps;
    const steps = options.steps ?? (sampler === 'ddim' ? defaultDDIMSteps(T) : T);
    const scheduler = this.scheduler(sampler, steps, eta);
    if (!Number.isInteger(samplesPerPrompt) || samplesPerPrompt < 1) {
      throw new Error(
        `DiffusionPrior.sample: samplesPerPrompt must be a positive integer, got ${samplesPerPrompt}`,
      );
    }
    if (!(Number.isFinite(guidanceScale) && guidanceScale >= 0)) {
      throw new Error(
        `DiffusionPrior.sample: guidanceScale must be a finite number >= 0, got ${guidanceScale}`,
      );
    }
    const count = this.checkConditioning(textEmbed, textEncodings, textMask);
    const k = samplesPerPrompt;
    const rows = count * k;
    // Each prompt repeated k times, prompt-major: row p * k + j is candidate j of prompt p.
    const repeat = (t: tf.Tensor | undefined) => (t === undefined ? undefined : repeatRows(t, k));
    const conditioning: PriorConditioning = {
      textEmbed: tf.tidy(() => this.toDiffusionSpace(repeat(textEmbed)!)),
      textEncodings: repeat(textEncodings),
      textMask: repeat(textMask),
    };
    let samples: tf.Tensor | undefined;
    try {
      samples = await sample<undefined>({
        scheduler,
        // Guidance and renormalisation happen in `predict`, so the loop itself runs unguided.
        model: (x, t) => this.predict(x, t, conditioning, { guidanceScale, renormalize }),
        shape: [rows, this.dim],
        generator,
        cond: undefined,
        onProgress: onProgress && ((p) => onProgress(p.step, p.totalSteps)),
        signal,
      }); // [B k, D]
      const x0 = samples;
      return tf.tidy(() => {
        const unit = l2Normalize(x0); // [B k, D]
        if (k === 1) return unit;
        const text = tf.reshape(l2Normalize(textEmbed), [count, 1, this.dim]); // [B, 1, D]
        const candidates = tf.reshape(unit, [count, k, this.dim]); // [B, k, D]
        const similarity = tf.sum(tf.mul(candidates, text), -1); // [B, k]
        const offsets = tf.tensor1d(
          Array.from({ length: count }, (_, p) => p * k),
          'int32',
        ); // [B]
        const best = tf.add(offsets, tf.argMax(similarity, 1)); // [B]
        return tf.gather(unit, best); // [B, D]
      });
    } finally {
      samples?.dispose();
      tf.dispose(
        [conditioning.textEmbed, conditioning.textEncodings, conditioning.textMask].filter(isTensor),
      );
    }
  }

  /** L2-normalise and scale by embedScale: [N, D] -> [N, D]. */
  toDiffusionSpace(embeds: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.mul(l2Normalize(embeds), this.embedScale));
  }

  dispose(): void {
    this.network.dispose();
  }

  private checkBatch(batch: EmbeddingBatch): EmbeddingBatchShape {
    const shape = checkEmbeddingBatch(batch, 'DiffusionPrior');
    this.checkConditioning(batch.textEmbeds, batch.textEncodings, batch.textMask);
    return shape;
  }

  /** Returns the batch size; errors name the input, the expected and the actual shape. */
  private checkConditioning(textEmbed: tf.Tensor, textEncodings?: tf.Tensor, textMask?: tf.Tensor): number {
    const shape = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;
    if (textEmbed.rank !== 2 || textEmbed.shape[1] !== this.dim) {
      throw new Error(
        `DiffusionPrior: expected text embeddings of shape [N, ${this.dim}] (the prior's dim), got ${shape(textEmbed)}`,
      );
    }
    const n = textEmbed.shape[0] as number;
    if (textEncodings === undefined) {
      if (textMask !== undefined) throw new Error('DiffusionPrior: textMask given without textEncodings');
      return n;
    }
    const { numTextTokens, textEncodingDim } = this.config.network;
    if (numTextTokens === 0) {
      throw new Error('DiffusionPrior: textEncodings given, but this prior has numTextTokens = 0');
    }
    const length = textEncodings.shape[1] as number;
    if (
      textEncodings.rank !== 3 ||
      textEncodings.shape[0] !== n ||
      length > numTextTokens ||
      textEncodings.shape[2] !== textEncodingDim
    ) {
      throw new Error(
        `DiffusionPrior: expected text encodings of shape [${n}, L <= ${numTextTokens}, ${textEncodingDim}], got ${shape(textEncodings)}`,
      );
    }
    if (
      textMask !== undefined &&
      (textMask.rank !== 2 || textMask.shape[0] !== n || textMask.shape[1] !== length)
    ) {
      throw new Error(`DiffusionPrior: expected textMask of shape [${n}, ${length}], got ${shape(textMask)}`);
    }
    return n;
  }
}

/** [N, ...] -> [N k, ...], each row repeated k times in place (like `repeat_interleave`). */
function repeatRows(t: tf.Tensor, k: number): tf.Tensor {
  if (k === 1) return tf.clone(t);
  return tf.tidy(() => {
    const [n, ...rest] = t.shape as number[];
    const expanded = tf.expandDims(t, 1); // [N, 1, ...]
    return tf.reshape(tf.tile(expanded, [1, k, ...rest.map(() => 1)]), [n! * k, ...rest]); // [N k, ...]
  });
}

/** The largest divisor of T that is at most 64: DDIM's default number of steps. */
function defaultDDIMSteps(T: number): number {
  for (let n = Math.min(64, T); n > 1; n--) if (T % n === 0) return n;
  return 1;
}

function isTensor(t: tf.Tensor | undefined): t is tf.Tensor {
  return t !== undefined;
}
