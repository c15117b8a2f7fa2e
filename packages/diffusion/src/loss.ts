import * as tf from '@tensorflow/tfjs-core';
import { numberIn, oneOf } from './validate.js';

/** Elementwise loss: mean absolute error, mean squared error, or Huber (smooth L1). */
export type LossType = 'l1' | 'l2' | 'huber';

export const LOSS_TYPES: readonly LossType[] = ['l1', 'l2', 'huber'];

export interface DiffusionLossOptions {
  /** Default `'l2'`. */
  loss?: LossType;
  /** Where Huber turns from quadratic to linear. Default 1 (PyTorch's `smooth_l1_loss`). */
  huberDelta?: number;
  /** One weight per sample, e.g. from `p2LossWeight`. Default 1. */
  weights?: tf.Tensor | readonly number[];
}

/**
 * The loss averaged over each sample, weighted per sample, then averaged over the batch (as
 * DALLE2-pytorch reduces `b ... -> b` before the p2 weights). Returns a scalar.
 */
export function diffusionLoss(
  prediction: tf.Tensor,
  target: tf.Tensor,
  options: DiffusionLossOptions = {},
): tf.Scalar {
  const loss = oneOf('loss', options.loss ?? 'l2', LOSS_TYPES);
  const delta = numberIn('huberDelta', options.huberDelta ?? 1, Number.MIN_VALUE, Number.MAX_VALUE);
  if (!tf.util.arraysEqual(prediction.shape, target.shape)) {
    throw new Error(`prediction [${prediction.shape}] and target [${target.shape}] differ in shape`);
  }
  const batch = prediction.shape[0] ?? 1;
  const weights = options.weights;
  if (weights !== undefined) {
    const count = weights instanceof tf.Tensor ? weights.size : weights.length;
    if (count !== batch) throw new Error(`got ${count} loss weights for a batch of ${batch}`);
  }
  return tf.tidy(() => {
    const error = tf.sub(prediction, target);
    let elementwise: tf.Tensor;
    if (loss === 'l1') elementwise = tf.abs(error);
    else if (loss === 'l2') elementwise = tf.square(error);
    else {
      const absolute = tf.abs(error);
      const quadratic = tf.minimum(absolute, delta);
      const linear = tf.sub(absolute, quadratic);
      elementwise = tf.add(tf.mul(tf.square(quadratic), 0.5), tf.mul(linear, delta));
    }
    let perSample = tf.mean(tf.reshape(elementwise, [batch, -1]), 1); // [B]
    if (weights !== undefined) {
      const w =
        weights instanceof tf.Tensor
          ? tf.reshape(tf.cast(weights, 'float32'), [batch])
          : tf.tensor1d([...weights]);
      perSample = tf.mul(perSample, w);
    }
    return tf.mean(perSample) as tf.Scalar;
  });
}
