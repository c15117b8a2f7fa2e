import * as tf from '@tensorflow/tfjs-core';
import { addNoise } from './add-noise.js';
import type { Timesteps } from './extract.js';
import { roundHalfEven } from './inference-timesteps.js';
import { NoiseSchedule, SCHEDULE_PRECISIONS, type SchedulePrecision } from './noise-schedule.js';
import type { Scheduler, SchedulerOutput, StepOptions } from './scheduler.js';
import {
  learnedStd,
  type PredictionConfig,
  predictOriginal,
  resolvePredictionConfig,
  splitLearnedVariance,
  stepNoise,
} from './scheduler-step.js';
import { integerAtLeast, numberIn, oneOf } from './validate.js';

/** `fixed_small_log`: the posterior standard deviation; `learned_range`: predicted by the model. */
export type UnCLIPVarianceType = 'fixed_small_log' | 'learned_range';

export const UNCLIP_VARIANCE_TYPES: readonly UnCLIPVarianceType[] = ['fixed_small_log', 'learned_range'];

/** UnCLIPScheduler's configuration; plain JSON, defaults as in diffusers. */
export interface UnCLIPSchedulerConfig extends PredictionConfig {
  /** Default 1000. */
  numTrainTimesteps?: number;
  /** Only the cosine schedule, as unCLIP was trained with. */
  betaSchedule?: 'squaredcos_cap_v2';
  /** Cap on the cosine betas. Default 0.999. */
  maxBeta?: number;
  /** Default `'fixed_small_log'`. */
  varianceType?: UnCLIPVarianceType;
  /** Default `'float32'`, as diffusers stores the schedule. */
  precision?: SchedulePrecision;
}

/** Per-step options of unCLIP. */
export interface UnCLIPStepOptions extends StepOptions {
  /** The timestep to step to; default the next of `timesteps` (-1 after the last). */
  prevTimestep?: number;
}

/**
 * The DDPM variant of Karlo/unCLIP, as diffusers' `UnCLIPScheduler`: cosine betas, and steps
 * between arbitrary timesteps (with beta recomputed from the cumulative alphas when skipping).
 */
export class UnCLIPScheduler implements Scheduler<Required<UnCLIPSchedulerConfig>, UnCLIPStepOptions> {
  readonly config: Readonly<Required<UnCLIPSchedulerConfig>>;
  readonly schedule: NoiseSchedule;
  readonly initNoiseSigma = 1;
  private steps: number[];

  constructor(config: UnCLIPSchedulerConfig = {}) {
    const numTrainTimesteps = integerAtLeast('numTrainTimesteps', config.numTrainTimesteps ?? 1000, 1);
    const betaSchedule = oneOf('betaSchedule', config.betaSchedule ?? 'squaredcos_cap_v2', [
      'squaredcos_cap_v2',
    ]);
    const maxBeta = numberIn('maxBeta', config.maxBeta ?? 0.999, 0, 1);
    const precision = oneOf('precision', config.precision ?? 'float32', SCHEDULE_PRECISIONS);
    this.schedule = new NoiseSchedule({ betaSchedule, numTrainTimesteps, maxBeta, precision });
    this.config = {
      numTrainTimesteps,
      betaSchedule,
      maxBeta,
      precision,
      ...resolvePredictionConfig(config),
      varianceType: oneOf('varianceType', config.varianceType ?? 'fixed_small_log', UNCLIP_VARIANCE_TYPES),
    };
    this.steps = Array.from({ length: numTrainTimesteps }, (_, i) => numTrainTimesteps - 1 - i);
  }

  get timesteps(): readonly number[] {
    return this.steps;
  }

  /** `n` timesteps from T - 1 down to 0, evenly spaced and rounded (numpy's half-to-even). */
  setTimesteps(numInferenceSteps: number): void {
    const T = this.config.numTrainTimesteps;
    const n = integerAtLeast('numInferenceSteps', numInferenceSteps, 1);
    if (n > T) throw new Error(`numInferenceSteps (${n}) cannot exceed numTrainTimesteps (${T})`);
    const ratio = n === 1 ? 0 : (T - 1) / (n - 1);
    this.steps = Array.from({ length: n }, (_, i) => roundHalfEven((n - 1 - i) * ratio));
  }

  /** The step's standard deviation (`fixed_small_log`) between t and prevT. */
  getVariance(t: number, prevT = t - 1): number {
    const { small } = this.varianceBounds(t, prevT);
    return Math.exp(0.5 * Math.log(small));
  }

  step(
    modelOutput: tf.Tensor,
    t: number,
    sample: tf.Tensor,
    options: UnCLIPStepOptions = {},
  ): SchedulerOutput {
    const prevT = options.prevTimestep ?? this.nextTimestep(t);
    if (!Number.isInteger(prevT) || prevT >= t)
      throw new Error(`prevTimestep ${prevT} must be an integer below ${t}`);
    const alphaProd = this.schedule.alphaCumprod(t);
    const alphaProdPrev = this.schedule.alphaCumprod(prevT);
    const betaProd = 1 - alphaProd;
    const betaProdPrev = 1 - alphaProdPrev;
    const { large: beta } = this.varianceBounds(t, prevT);
    const alpha = 1 - beta;
    const x0Coeff = (Math.sqrt(alphaProdPrev) * beta) / betaProd;
    const sampleCoeff = (Math.sqrt(alpha) * betaProdPrev) / betaProd;

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
          const { small, large } = this.varianceBounds(t, prevT);
          std = learnedStd(predictedVariance, small, large);
        } else {
          std = this.getVariance(t, prevT);
        }
        prevSample = tf.add(prevSample, tf.mul(noise, std));
      }
      return { prevSample, predOriginalSample };
    });
  }

  addNoise(x0: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor {
    return addNoise(this.schedule, x0, noise, t);
  }

  // The entry after t in `timesteps`, -1 after the last, t - 1 for a timestep not in the list.
  private nextTimestep(t: number): number {
    const index = this.steps.indexOf(t);
    return index < 0 ? t - 1 : (this.steps[index + 1] ?? -1);
  }

  // beta between t and prevT (the trained beta_t for consecutive steps) and the posterior variance.
  private varianceBounds(t: number, prevT: number): { small: number; large: number } {
    const alphaProd = this.schedule.alphaCumprod(t);
    const alphaProdPrev = this.schedule.alphaCumprod(prevT);
    const large = prevT === t - 1 ? (this.schedule.betas[t] as number) : 1 - alphaProd / alphaProdPrev;
    const small = Math.max(((1 - alphaProdPrev) / (1 - alphaProd)) * large, 1e-20);
    return { small, large };
  }
}
