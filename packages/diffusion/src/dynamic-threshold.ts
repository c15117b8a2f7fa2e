import * as tf from '@tensorflow/tfjs-core';
import { numberIn } from './validate.js';

export interface DynamicThresholdOptions {
  /** The percentile of |x0| taken as each sample's threshold s. Default 0.995. */
  ratio?: number;
  /** The largest s allowed. Default 1. */
  maxValue?: number;
}

/**
 * Imagen's dynamic thresholding: per sample, s = the `ratio` quantile of |x0| (linear
 * interpolation, like `torch.quantile`), clamped to [1, maxValue]; x0 is clipped to [-s, s]
 * and divided by s. Batch on the first axis.
 */
export function dynamicThreshold(x0: tf.Tensor, options: DynamicThresholdOptions = {}): tf.Tensor {
  const ratio = numberIn('ratio', options.ratio ?? 0.995, 0, 1);
  const maxValue = numberIn('maxValue', options.maxValue ?? 1, 1, Number.MAX_VALUE);
  const batch = x0.shape[0] ?? 1;
  const n = x0.size / batch;
  const position = ratio * (n - 1);
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  const frac = position - lo;
  return tf.tidy(() => {
    const flat = tf.reshape(x0, [batch, n]);
    // The largest n - lo values, descending, reach down to ascending index lo.
    const { values } = tf.topk(tf.abs(flat), n - lo);
    const below = tf.slice(values, [0, n - 1 - lo], [batch, 1]); // ascending index lo
    const above = tf.slice(values, [0, n - 1 - hi], [batch, 1]); // ascending index hi
    const quantile = tf.add(below, tf.mul(tf.sub(above, below), frac));
    const s = tf.clipByValue(quantile, 1, maxValue); // [B, 1]
    const clipped = tf.minimum(tf.maximum(flat, tf.neg(s)), s);
    return tf.reshape(tf.div(clipped, s), x0.shape);
  });
}
