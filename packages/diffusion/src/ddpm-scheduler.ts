import * as tf from '@tensorflow/tfjs-core';
import { addNoise } from './add-noise.js';
import type { Timesteps } from './extract.js';
import { inferenceTimesteps, TIMESTEP_SPACINGS, type TimestepSpacing } from './inference-timesteps.js';
import { NoiseSchedule, type NoiseScheduleConfig } from './noise-schedule.js';
import type { Scheduler, SchedulerOutput, StepOptions } from './scheduler.js';
import {
  learnedStd,
  type PredictionConfig,
  predictOriginal,
  resolvePredictionConfig,
  splitLearnedVariance,
  stepNoise,
} from './scheduler-step.js';
import { integerAtLeast, oneOf } from './validate.js';

/**
 * The variance of each reverse step: the posterior variance (`fixed_small`, or its square root
 * taken through a log, `fixed_small_log`), beta_t (`fixed_large`), or a per-pixel interpolation
 * between their logs predicted by the model (`learned_range`, improved DDPM).
 */
export type DDPMVarianceType = 'fixed_small' | 'fixed_small_log' | 'fixed_large' | 'learned_range';

export const DDPM_VARIANCE_TYPES: readonly DDPMVarianceType[] = [
  'fixed_small',
  'fixed_small_log',
  'fixed_large',
  'learned_range',
];

/** DDPMScheduler's configuration; plain JSON, defaults as in diffusers. */
export interface DDPMSchedulerConfig extends NoiseScheduleConfig, PredictionConfig {
  /** Default `'fixed_small'`. */
  varianceType?: DDPMVarianceType;
  /** Default `'leading'`. */
  timestepSpacing?: TimestepSpacing;
  /** Added to `leading` timesteps. Default 0. */
  stepsOffset?: number;
}

/** Ancestral sampling of Ho et al. (2020), as diffusers' `DDPMScheduler`. */
export class DDPMScheduler implements Scheduler<Required<DDPMSchedulerConfig>> {
  readonly config: Readonly<Required<DDPMSchedulerConfig>>;
  readonly schedule: NoiseSchedule;
  readonly initNoiseSigma = 1;
  private steps: number[];
  private numInferenceSteps: number | null = null;

  constructor(config: DDPMSchedulerConfig = {}) {
    this.schedule = new NoiseSchedule({ ...config, precision: config.precision ?? 'float32' });
    this.config = {
      ...this.schedule.config,
      ...resolvePredictionConfig(config),
      varianceType: oneOf('varianceType', config.varianceType ?? 'fixed_small', DDPM_VARIANCE_TYPES),
      timestepSpacing: oneOf('timestepSpacing', config.timestepSpacing ?? 'leading', TIMESTEP_SPACINGS),
      stepsOffset: integerAtLeast('stepsOffset', config.stepsOffset ?? 0, 0),
    };
    this.steps = Array.from(
      { length: this.schedule.numTrainTimesteps },
      (_, i) => this.schedule.numTrainTimesteps - 1 - i,
    );
  }

  get timesteps(): readonly number[] {
    return this.steps;
  }

  setTimesteps(numInferenceSteps: number): void {
    const { numTrainTimesteps, timestepSpacing, stepsOffset } = this.config;
    this.steps = inferenceTimesteps(numTrainTimesteps, numInferenceSteps, timestepSpacing, stepsOffset);
    this.numInferenceSteps = numInferenceSteps;
  }

  /** The timestep after `t` in `timesteps` (-1 after the last); t - 1 before `setTimesteps`. */
  previousTimestep(t: number): number {
    if (this.numInferenceSteps === null) return t - 1;
    const index = this.steps.indexOf(t);
    if (index < 0) throw new Error(`timestep ${t} is not one of the scheduler's timesteps`);
    return this.steps[index + 1] ?? -1;
  }

  /** The step variance at t for a fixed variance type (its standard deviation for `fixed_small_log`). */
  getVariance(t: number): number {
    const { small, large } = this.varianceBounds(t);
    switch (this.config.varianceType) {
      case 'fixed_small':
        return small;
      case 'fixed_small_log':
        return Math.exp(0.5 * Math.log(small));
      case 'fixed_large':
        return large;
      case 'learned_range':
        throw new Error("the 'learned_range' variance depends on the model output");
    }
  }

  step(modelOutput: tf.Tensor, t: number, sample: tf.Tensor, options: StepOptions = {}): SchedulerOutput {
    const prevT = this.previousTimestep(t);
    const alphaProd = this.schedule.alphaCumprod(t);
    const alphaProdPrev = this.schedule.alphaCumprod(prevT);
    const betaProd = 1 - alphaProd;
    const betaProdPrev = 1 - alphaProdPrev;
    const currentAlpha = alphaProd / alphaProdPrev;
    const currentBeta = 1 - currentAlpha;
    // Posterior mean coefficients of x_0 and x_t (DDPM eq. 7).
    const x0Coeff = (Math.sqrt(alphaProdPrev) * currentBeta) / betaProd;
    const sampleCoeff = (Math.sqrt(currentAlpha) * betaProdPrev) / betaProd;

    return tf.tidy(() => {
      const learned = this.config.varianceType === 'learned_range';
      const [output, predictedVariance] = learned
        ? splitLearnedVariance(modelOutput, sample)
        : [modelOutput, null];
      const predOriginalSample = predictOriginal(output, sample, alphaProd, this.config);
      let prevSample = tf.add(tf.mul(predOriginalSample, x0Coeff), tf.mul(sample, sampleCoeff));
      if (t > 0) {
        const noise = stepNoise(sample.shape, options);
        let std: tf.Tensor | number;
        if (learned) {
          if (!predictedVariance)
            throw new Error("'learned_range' needs a model output with twice the channels");
          const { small, large } = this.varianceBounds(t);
          std = learnedStd(predictedVariance, small, large);
        } else {
          const variance = this.getVariance(t);
          std = this.config.varianceType === 'fixed_small_log' ? variance : Math.sqrt(variance);
        }
        prevSample = tf.add(prevSample, tf.mul(noise, std));
      }
      return { prevSample, predOriginalSample };
    });
  }

  addNoise(x0: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor {
    return addNoise(this.schedule, x0, noise, t);
  }

  // The posterior variance (clamped away from 0) and beta_t between t and its predecessor.
  private varianceBounds(t: number): { small: number; large: number } {
    const alphaProd = this.schedule.alphaCumprod(t);
    const alphaProdPrev = this.schedule.alphaCumprod(this.previousTimestep(t));
    const large = 1 - alphaProd / alphaProdPrev;
    const small = Math.max(((1 - alphaProdPrev) / (1 - alphaProd)) * large, 1e-20);
    return { small, large };
  }
}
