import * as tf from '@tensorflow/tfjs-core';

/** Average pooling by an integer `factor`: [B, H, W, C] -> [B, H / factor, W / factor, C]. */
export function downsampleImages(images: tf.Tensor, factor: number): tf.Tensor4D {
  if (!Number.isInteger(factor) || factor < 1) {
    throw new Error(`downsampleImages: factor must be a positive integer, got ${factor}`);
  }
  if (factor === 1) return tf.clone(images) as tf.Tensor4D;
  return tf.avgPool(images as tf.Tensor4D, factor, factor, 'valid');
}
