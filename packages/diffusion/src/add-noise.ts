import * as tf from '@tensorflow/tfjs-core';
import { checkTimestepBatch, extract, type Timesteps } from './extract.js';
import type { NoiseSchedule } from './noise-schedule.js';

/**
 * The forward process q(x_t | x_0): sqrt(abar_t) x0 + sqrt(1 - abar_t) noise, with one timestep
 * per sample (or one for all). The batch is the first axis; the layout of the rest is free.
 */
export function addNoise(schedule: NoiseSchedule, x0: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor {
  checkTimestepBatch(t, x0);
  return tf.tidy(() => {
    const signal = extract(schedule.sqrtAlphasCumprod, t, x0.rank);
    const noiseScale = extract(schedule.sqrtOneMinusAlphasCumprod, t, x0.rank);
    return tf.add(tf.mul(signal, x0), tf.mul(noiseScale, noise));
  });
}
