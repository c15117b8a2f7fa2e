import { defaultGenerator, type TorchGenerator } from '@dalle2js/core';
import {
  addNoise,
  DDIMScheduler,
  DDPMScheduler,
  diffusionLoss,
  getTarget,
  NoiseSchedule,
  type Scheduler,
  sample,
} from '@dalle2js/diffusion';
import { UNet, type UNetCondition } from '@dalle2js/unet';
import * as tf from '@tensorflow/tfjs-core';
import { type DecoderConfig, type ResolvedDecoderConfig, resolveDecoderConfig } from './decoder-config.js';
import { downsampleImages } from './downsample-images.js';

/** How a decoder samples: ancestral DDPM, or DDIM over a few steps. */
export type DecoderSampler = 'ddpm' | 'ddim';
export const DECODER_SAMPLERS: readonly DecoderSampler[] = ['ddpm', 'ddim'];

/** The conditioning of a batch, besides the noisy image: what `UNetCondition` holds. */
export interface DecoderConditioning {
  /** CLIP image embeddings [B, imageEmbedDim] (unit norm, as CLIP gives them). */
  imageEmbed: tf.Tensor;
  /** [B, L, textEmbedDim] CLIP text encodings, for a U-Net with `textEmbedDim`. */
  textEncodings?: tf.Tensor;
  /** [B, L], 1 = real token. */
  textMask?: tf.Tensor;
  /** The previous stage's images [B, lowresImageSize, lowresImageSize, 3] in [-1, 1], for an upsampler. */
  lowresImage?: tf.Tensor;
}

export interface DecoderLossOptions {
  /** Draws the timesteps, the noise and the conditioning drops. Default: core's global generator. */
  generator?: TorchGenerator;
  /**
   * Timesteps are drawn as floor(T * u^timestepPower) with u uniform in [0, 1). Below 1 it spends
   * more of the training on high noise, the only place the network must draw the layout from the
   * conditioning alone; 0.5 puts half the timesteps in the top 30%. Default 1 (uniform).
   */
  timestepPower?: number;
}

export interface DecoderSampleOptions extends Omit<DecoderConditioning, 'imageEmbed'> {
  /** Denoising steps; default numTrainTimesteps for DDPM, the largest divisor of it up to 64 for DDIM. */
  steps?: number;
  /** Default 'ddpm'. */
  sampler?: DecoderSampler;
  /** Classifier-free guidance scale; 1 = the conditional prediction only. Default 1. */
  guidanceScale?: number;
  /** DDIM's eta (0 = deterministic). Default 0. */
  eta?: number;
  /** Draws x_T and each step's noise. Default: core's global generator. */
  generator?: TorchGenerator;
  /** Called after each denoising step with (steps done, total steps). */
  onProgress?: (step: number, total: number) => void;
  /** Aborting rejects with the signal's reason at the next step boundary; nothing leaks. */
  signal?: AbortSignal;
}

/**
 * One stage of the DALL-E 2 decoder: a Gaussian diffusion over images whose denoiser is a `UNet`
 * conditioned on a CLIP image embedding (and, for an upsampler, on the previous stage's image).
 */
export class Decoder {
  readonly config: Readonly<ResolvedDecoderConfig>;
  readonly unet: UNet;
  /** The forward process the network is trained on. */
  readonly schedule: NoiseSchedule;

  constructor(config: Partial<DecoderConfig> = {}, options: { rng?: TorchGenerator } = {}) {
    this.config = Object.freeze(resolveDecoderConfig(config));
    this.unet = new UNet(this.config.unet, { rng: options.rng });
    this.schedule = new NoiseSchedule({
      betaSchedule: this.config.betaSchedule,
      numTrainTimesteps: this.config.numTrainTimesteps,
    });
  }

  get imageSize(): number {
    return this.config.imageSize;
  }

  /** Size of the CLIP image embedding this stage is conditioned on. */
  get imageEmbedDim(): number {
    return this.config.unet.imageEmbedDim;
  }

  /**
   * The training loss on images [B, S, S, 3] in [-1, 1] with their CLIP image embeddings: mean
   * squared error between the U-Net's output and the target at a uniformly drawn timestep, with
   * the conditioning dropped with probability condDropProb. An upsampler gets its low-resolution
   * input by average pooling `images` unless `conditioning.lowresImage` is given. Returns a scalar
   * the caller owns; run it under `tf.variableGrads`.
   */
  loss(images: tf.Tensor, conditioning: DecoderConditioning, options: DecoderLossOptions = {}): tf.Scalar {
    const { imageSize, numTrainTimesteps: T, condDropProb, prediction, lowresImageSize } = this.config;
    const [b, h, w, c] = images.shape;
    if (images.rank !== 4 || h !== imageSize || w !== imageSize || c !== this.config.unet.channels) {
      throw new Error(
        `Decoder.loss: expected images of shape [B, ${imageSize}, ${imageSize}, ${this.config.unet.channels}], got [${images.shape.join(', ')}]`,
      );
    }
    const count = b as number;
    const { generator = defaultGenerator(), timestepPower = 1 } = options;
    if (!(Number.isFinite(timestepPower) && timestepPower > 0)) {
      throw new Error(`Decoder.loss: timestepPower must be a positive number, got ${timestepPower}`);
    }
    const timesteps = Int32Array.from(generator.uniform(count), (u) =>
      Math.min(T - 1, Math.floor(u ** timestepPower * T)),
    );
    const keep = Float32Array.from(generator.uniform(count), (u) => (u < condDropProb ? 0 : 1));
    const noiseValues = generator.normal(images.size);
    return tf.tidy(() => {
      const noise = tf.tensor(noiseValues, images.shape, 'float32'); // [B, S, S, C]
      const t = tf.tensor1d(timesteps, 'int32'); // [B]
      const noised = addNoise(this.schedule, images, noise, t); // [B, S, S, C]
      const lowresImage =
        conditioning.lowresImage ??
        (lowresImageSize === null ? undefined : downsampleImages(images, imageSize / lowresImageSize));
      const output = this.unet.apply(noised, t, toUNetCondition(conditioning, lowresImage), {
        condKeepMask: tf.tensor1d(keep),
      }); // [B, S, S, outChannels]
      const predicted = tf.slice(output, [0, 0, 0, 0], [-1, -1, -1, this.config.unet.channels]);
      const target = getTarget(this.schedule, prediction, images, noise, t);
      return diffusionLoss(predicted, target);
    });
  }

  /** A fresh scheduler for `sampler` over `steps` of the training schedule. */
  scheduler(sampler: DecoderSampler, steps: number, eta = 0): Scheduler {
    const T = this.config.numTrainTimesteps;
    if (!DECODER_SAMPLERS.includes(sampler)) {
      throw new Error(`Decoder: unknown sampler "${sampler}"; valid: ${DECODER_SAMPLERS.join(', ')}`);
    }
    if (!Number.isInteger(steps) || steps < 1 || steps > T) {
      throw new Error(`Decoder: steps must be an integer in [1, ${T}], got ${steps}`);
    }
    // DDIM steps back by T / steps from each timestep, so that must be a whole number.
    if (sampler === 'ddim' && T % steps !== 0) {
      throw new Error(`Decoder: DDIM steps must divide numTrainTimesteps (${T}), got ${steps}`);
    }
    const config = {
      betaSchedule: this.config.betaSchedule,
      numTrainTimesteps: T,
      predictionType: this.config.prediction,
      clipSample: true,
      timestepSpacing: 'trailing' as const,
    };
    const learned = this.config.unet.learnedVariance;
    const scheduler =
      sampler === 'ddpm'
        ? new DDPMScheduler({ ...config, varianceType: learned ? 'learned_range' : 'fixed_small' })
        : new DDIMScheduler({ ...config, eta });
    scheduler.setTimesteps(steps);
    return scheduler;
  }

  /** The default number of steps of `sampler`. */
  defaultSteps(sampler: DecoderSampler): number {
    const T = this.config.numTrainTimesteps;
    return sampler === 'ddim' ? largestDivisorUpTo(T, 64) : T;
  }

  /** Images [B, S, S, 3] in [-1, 1] (clipped), drawn from noise for image embeddings [B, E]; the caller owns them. */
  async sample(imageEmbed: tf.Tensor, options: DecoderSampleOptions = {}): Promise<tf.Tensor4D> {
    const { sampler = 'ddpm', guidanceScale = 1, eta = 0, generator = defaultGenerator() } = options;
    const { imageSize, unet: unetConfig } = this.config;
    const steps = options.steps ?? this.defaultSteps(sampler);
    if (!(Number.isFinite(guidanceScale) && guidanceScale >= 0)) {
      throw new Error(`Decoder.sample: guidanceScale must be a finite number >= 0, got ${guidanceScale}`);
    }
    if (imageEmbed.rank !== 2 || imageEmbed.shape[1] !== unetConfig.imageEmbedDim) {
      throw new Error(
        `Decoder.sample: expected image embeddings of shape [N, ${unetConfig.imageEmbedDim}] (the decoder's imageEmbedDim), got [${imageEmbed.shape.join(', ')}]`,
      );
    }
    const scheduler = this.scheduler(sampler, steps, eta);
    const b = imageEmbed.shape[0] as number;
    const condition = toUNetCondition({ ...options, imageEmbed }, options.lowresImage);
    const learned = unetConfig.learnedVariance && sampler === 'ddim';
    const x = await sample<UNetCondition>({
      scheduler,
      model: (xt, t, cond) =>
        tf.tidy(() => {
          const timesteps = tf.fill([b], t, 'int32'); // [B]
          const out =
            guidanceScale === 1
              ? this.unet.apply(xt, timesteps, cond)
              : this.unet.forwardWithGuidance(xt, timesteps, cond, guidanceScale);
          // DDIM has no use for the learned variance channels.
          return learned ? tf.slice(out, [0, 0, 0, 0], [-1, -1, -1, unetConfig.channels]) : out;
        }),
      shape: [b, imageSize, imageSize, unetConfig.channels],
      generator,
      cond: condition,
      onProgress: options.onProgress && ((p) => options.onProgress?.(p.step, p.totalSteps)),
      signal: options.signal,
    });
    try {
      return tf.tidy(() => tf.clipByValue(x, -1, 1) as tf.Tensor4D);
    } finally {
      x.dispose();
    }
  }

  dispose(): void {
    this.unet.dispose();
  }
}

function toUNetCondition(
  conditioning: DecoderConditioning,
  lowresImage: tf.Tensor | undefined,
): UNetCondition {
  const { imageEmbed, textEncodings, textMask } = conditioning;
  return {
    imageEmbed,
    ...(textEncodings === undefined ? {} : { textEncodings }),
    ...(textMask === undefined ? {} : { textMask }),
    ...(lowresImage === undefined ? {} : { lowresImage }),
  };
}

function largestDivisorUpTo(T: number, max: number): number {
  for (let n = Math.min(max, T); n > 1; n--) if (T % n === 0) return n;
  return 1;
}
