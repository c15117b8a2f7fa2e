import type { Rng } from '@dalle2js/core';
import type * as tf from '@tensorflow/tfjs-core';
import type { Timesteps } from './extract.js';

/** Where a step's fresh noise comes from. */
export interface StepOptions {
  /** Draws the noise (shape of the sample, row-major) when `noise` is not given. Default: core's `defaultGenerator()`. */
  generator?: Rng;
  /** The noise to add, shaped like the sample; the caller keeps ownership. */
  noise?: tf.Tensor;
}

/** What a step returns; the caller owns both tensors. */
export interface SchedulerOutput {
  /** x_{t-1}. */
  prevSample: tf.Tensor;
  /** The model's estimate of x_0 at this step (after clipping or thresholding). */
  predOriginalSample: tf.Tensor;
}

/**
 * The surface all schedulers share (as in diffusers): the user's loop calls
 * `setTimesteps(n)`, then `step` once per entry of `timesteps`.
 */
export interface Scheduler<Config extends object = object, Options extends StepOptions = StepOptions> {
  /** The resolved configuration, plain JSON: `new X(scheduler.config)` rebuilds the scheduler. */
  readonly config: Readonly<Config>;
  /** The timesteps to visit, descending. */
  readonly timesteps: readonly number[];
  /** Standard deviation of the initial noise. */
  readonly initNoiseSigma: number;
  setTimesteps(numInferenceSteps: number): void;
  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options?: Options): SchedulerOutput;
  /** The forward process at the training timesteps `t`. */
  addNoise(x0: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor;
}
