import * as tf from '@tensorflow/tfjs-core';

/**
 * Classifier-free guidance: uncond + scale (cond - uncond). Scale 1 returns (a copy of) the
 * conditional prediction exactly; scale 0 the unconditional one.
 */
export function applyGuidance(cond: tf.Tensor, uncond: tf.Tensor, scale: number): tf.Tensor {
  if (!Number.isFinite(scale)) throw new Error(`guidance scale must be a finite number; got ${scale}`);
  if (scale === 1) return tf.clone(cond);
  if (scale === 0) return tf.clone(uncond);
  return tf.tidy(() => tf.add(uncond, tf.mul(tf.sub(cond, uncond), scale)));
}
