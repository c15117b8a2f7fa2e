import * as tf from '@tensorflow/tfjs-core';
import { checkTimestepBatch, extract, type Timesteps } from './extract.js';
import type { NoiseSchedule } from './noise-schedule.js';
import { oneOf } from './validate.js';

/** What a denoising network predicts: the noise, the clean sample, or the velocity v. */
export type PredictionType = 'epsilon' | 'sample' | 'v_prediction';

export const PREDICTION_TYPES: readonly PredictionType[] = ['epsilon', 'sample', 'v_prediction'];

/** v = sqrt(abar_t) noise - sqrt(1 - abar_t) x0 (Salimans and Ho, progressive distillation). */
export function getVelocity(
  schedule: NoiseSchedule,
  x0: tf.Tensor,
  noise: tf.Tensor,
  t: Timesteps,
): tf.Tensor {
  checkTimestepBatch(t, x0);
  return tf.tidy(() => {
    const signal = extract(schedule.sqrtAlphasCumprod, t, x0.rank);
    const noiseScale = extract(schedule.sqrtOneMinusAlphasCumprod, t, x0.rank);
    return tf.sub(tf.mul(signal, noise), tf.mul(noiseScale, x0));
  });
}

/** The regression target for a network trained to predict `predictionType`. */
export function getTarget(
  schedule: NoiseSchedule,
  predictionType: PredictionType,
  x0: tf.Tensor,
  noise: tf.Tensor,
  t: Timesteps,
): tf.Tensor {
  switch (oneOf('predictionType', predictionType, PREDICTION_TYPES)) {
    case 'epsilon':
      return tf.clone(noise);
    case 'sample':
      return tf.clone(x0);
    case 'v_prediction':
      return getVelocity(schedule, x0, noise, t);
  }
}

/** The clean sample implied by a prediction at x_t (per-sample timesteps). */
export function predictOriginalSample(
  schedule: NoiseSchedule,
  predictionType: PredictionType,
  prediction: tf.Tensor,
  xt: tf.Tensor,
  t: Timesteps,
): tf.Tensor {
  const kind = oneOf('predictionType', predictionType, PREDICTION_TYPES);
  checkTimestepBatch(t, xt);
  return tf.tidy(() => {
    const signal = extract(schedule.sqrtAlphasCumprod, t, xt.rank);
    const noiseScale = extract(schedule.sqrtOneMinusAlphasCumprod, t, xt.rank);
    switch (kind) {
      case 'epsilon':
        return tf.div(tf.sub(xt, tf.mul(noiseScale, prediction)), signal);
      case 'sample':
        return tf.clone(prediction);
      case 'v_prediction':
        return tf.sub(tf.mul(signal, xt), tf.mul(noiseScale, prediction));
    }
  });
}
