import * as tf from '@tensorflow/tfjs-core';
import { addNoise } from './add-noise.js';
import type { Timesteps } from './extract.js';
import { inferenceTimesteps, TIMESTEP_SPACINGS, type TimestepSpacing } from './inference-timesteps.js';
import { NoiseSchedule, type NoiseScheduleConfig } from './noise-schedule.js';
import type { Scheduler, SchedulerOutput, StepOptions } from './scheduler.js';
import {
  type PredictionConfig,
  predictOriginal,
  resolvePredictionConfig,
  stepNoise,
} from './scheduler-step.js';
import { bool, integerAtLeast, numberIn, oneOf } from './validate.js';

/** DDIMScheduler's configuration; plain JSON, defaults as in diffusers. */
export interface DDIMSchedulerConfig extends NoiseScheduleConfig, PredictionConfig {
  /** Use abar = 1 before the first timestep (else abar_0). Default true. */
  setAlphaToOne?: boolean;
  /** Added to `leading` timesteps (Stable Diffusion uses 1). Default 0. */
  stepsOffset?: number;
  /** Default `'leading'`. */
  timestepSpacing?: TimestepSpacing;
  /** Noise weight: 0 is deterministic DDIM, 1 is DDPM-like. Default 0. */
  eta?: number;
}

/** Per-step options of DDIM. */
export interface DDIMStepOptions extends StepOptions {
  /** Overrides `config.eta` for this step. */
  eta?: number;
  /** Recompute epsilon from the clipped x_0 (as the original DDIM code). Default false. */
  useClippedModelOutput?: boolean;
}

/** Denoising diffusion implicit models (Song et al. 2021), as diffusers' `DDIMScheduler`. */
export class DDIMScheduler implements Scheduler<Required<DDIMSchedulerConfig>, DDIMStepOptions> {
  readonly config: Readonly<Required<DDIMSchedulerConfig>>;
  readonly schedule: NoiseSchedule;
  readonly initNoiseSigma = 1;
  private steps: number[];
  private numInferenceSteps: number | null = null;
  private readonly finalAlphaCumprod: number;

  constructor(config: DDIMSchedulerConfig = {}) {
    this.schedule = new NoiseSchedule({ ...config, precision: config.precision ?? 'float32' });
    this.config = {
      ...this.schedule.config,
      ...resolvePredictionConfig(config),
      setAlphaToOne: bool('setAlphaToOne', config.setAlphaToOne ?? true),
      stepsOffset: integerAtLeast('stepsOffset', config.stepsOffset ?? 0, 0),
      timestepSpacing: oneOf('timestepSpacing', config.timestepSpacing ?? 'leading', TIMESTEP_SPACINGS),
      eta: numberIn('eta', config.eta ?? 0, 0, Number.MAX_VALUE),
    };
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : this.schedule.alphaCumprod(0);
    const T = this.schedule.numTrainTimesteps;
    this.steps = Array.from({ length: T }, (_, i) => T - 1 - i);
  }

  get timesteps(): readonly number[] {
    return this.steps;
  }

  setTimesteps(numInferenceSteps: number): void {
    const { numTrainTimesteps, timestepSpacing, stepsOffset } = this.config;
    this.steps = inferenceTimesteps(numTrainTimesteps, numInferenceSteps, timestepSpacing, stepsOffset);
    this.numInferenceSteps = numInferenceSteps;
  }

  /** t - T / numInferenceSteps, as diffusers steps (whatever the spacing). */
  previousTimestep(t: number): number {
    if (this.numInferenceSteps === null) throw new Error('call setTimesteps before step');
    return t - Math.floor(this.config.numTrainTimesteps / this.numInferenceSteps);
  }

  /** sigma_t^2 / eta^2 of DDIM eq. 16 between t and prevT. */
  getVariance(t: number, prevT: number): number {
    const alphaProd = this.schedule.alphaCumprod(t);
    const alphaProdPrev = prevT >= 0 ? this.schedule.alphaCumprod(prevT) : this.finalAlphaCumprod;
    return ((1 - alphaProdPrev) / (1 - alphaProd)) * (1 - alphaProd / alphaProdPrev);
  }

  step(modelOutput: tf.Tensor, t: number, sample: tf.Tensor, options: DDIMStepOptions = {}): SchedulerOutput {
    const eta = numberIn('eta', options.eta ?? this.config.eta, 0, Number.MAX_VALUE);
    const prevT = this.previousTimestep(t);
    const alphaProd = this.schedule.alphaCumprod(t);
    const alphaProdPrev = prevT >= 0 ? this.schedule.alphaCumprod(prevT) : this.finalAlphaCumprod;
    const betaProd = 1 - alphaProd;
    const std = eta * Math.sqrt(this.getVariance(t, prevT));
    const directionCoeff = Math.sqrt(1 - alphaProdPrev - std ** 2);

    return tf.tidy(() => {
      const { predictionType } = this.config;
      const predOriginalSample = predictOriginal(modelOutput, sample, alphaProd, this.config);
      let epsilon: tf.Tensor;
      if (options.useClippedModelOutput || predictionType === 'sample') {
        const x0 = options.useClippedModelOutput ? predOriginalSample : modelOutput;
        epsilon = tf.div(tf.sub(sample, tf.mul(x0, Math.sqrt(alphaProd))), Math.sqrt(betaProd));
      } else if (predictionType === 'v_prediction') {
        epsilon = tf.add(tf.mul(modelOutput, Math.sqrt(alphaProd)), tf.mul(sample, Math.sqrt(betaProd)));
      } else {
        epsilon = modelOutput;
      }
      const direction = tf.mul(epsilon, directionCoeff);
      let prevSample = tf.add(tf.mul(predOriginalSample, Math.sqrt(alphaProdPrev)), direction);
      if (eta > 0) prevSample = tf.add(prevSample, tf.mul(stepNoise(sample.shape, options), std));
      return { prevSample, predOriginalSample };
    });
  }

  addNoise(x0: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor {
    return addNoise(this.schedule, x0, noise, t);
  }
}
