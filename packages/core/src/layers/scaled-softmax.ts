import * as tf from '@tensorflow/tfjs-core';
import {
  SCALED_SOFTMAX_GRAD_KERNEL,
  SCALED_SOFTMAX_KERNEL,
  type ScaledSoftmaxAttrs,
} from '../backend/scaled-softmax-contract.js';
import { ownKernelEnabled } from '../backend/webgpu-kernels/webgpu-kernels-switch.js';

/**
 * softmax(scale * x) over the last axis, as attention scales its scores: through the backend's
 * kernels where it has them (webgpu: one pass over x forward and one backward, with their own
 * gradient), else `tf.softmax(tf.mul(x, scale))`.
 */
export function scaledSoftmax(x: tf.Tensor, scale: number): tf.Tensor {
  if (!(scale > 0)) throw new Error(`scaledSoftmax: scale must be positive, got ${scale}`);
  if (x.dtype !== 'float32' || x.size === 0 || !ownKernelEnabled(SCALED_SOFTMAX_KERNEL, 'softmax')) {
    return tf.softmax(tf.mul(x, scale), -1);
  }
  const attrs: ScaledSoftmaxAttrs = { scale };
  const kernelAttrs = attrs as unknown as tf.NamedAttrMap;
  const softmax = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [logits, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const y = tf.engine().runKernel(SCALED_SOFTMAX_KERNEL, { logits }, kernelAttrs) as tf.Tensor;
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [savedY]: tf.Tensor[]) =>
        tf.engine().runKernel(SCALED_SOFTMAX_GRAD_KERNEL, { dy, y: savedY! }, kernelAttrs) as tf.Tensor,
    };
  });
  return softmax(x);
}
