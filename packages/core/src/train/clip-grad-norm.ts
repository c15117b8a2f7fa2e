import * as tf from '@tensorflow/tfjs-core';
import { SQUARED_SUM_KERNEL, squaredSumInputNames } from '../backend/optimizer-kernels-contract.js';
import { ownKernelEnabled } from '../backend/webgpu-kernels/webgpu-kernels-switch.js';
import { type Gradients, gradientList, withGradients } from './gradients.js';

export interface ClippedGradients<G extends Gradients> {
  /** New tensors, owned by the caller, in a container of the same kind as the input. */
  grads: G;
  /** The global L2 norm before clipping. Owned by the caller. */
  totalNorm: tf.Scalar;
}

/** What every gradient is multiplied by to clip their global norm, and that norm. */
export interface ClipCoefficient {
  /** min(1, maxNorm / (totalNorm + 1e-6)). Owned by the caller. */
  coefficient: tf.Scalar;
  /** The global L2 norm of all gradients together. Owned by the caller. */
  totalNorm: tf.Scalar;
}

/**
 * The coefficient of `torch.nn.utils.clip_grad_norm_`: min(1, maxNorm / (totalNorm + 1e-6)), where
 * totalNorm is the L2 norm of all gradients together. Stays on the device: nothing is read back.
 * `AdamW.step(grads, { gradScale: coefficient })` applies it inside the update.
 */
export function clipCoefficient(grads: Gradients, maxNorm: number): ClipCoefficient {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be positive, got ${maxNorm}`);
  const totalNorm = globalGradNorm(grads);
  const coefficient = tf.tidy(() => tf.minimum(tf.div(maxNorm, tf.add(totalNorm, 1e-6)), 1)) as tf.Scalar;
  return { coefficient, totalNorm };
}

/** The L2 norm of all gradients together, in float32, on the device. Owned by the caller. */
export function globalGradNorm(grads: Gradients): tf.Scalar {
  return tf.tidy(() => {
    const list = gradientList(grads).filter((g) => g.size > 0);
    if (list.length === 0) return tf.scalar(0);
    if (list.every((g) => g.dtype === 'float32') && ownKernelEnabled(SQUARED_SUM_KERNEL, 'optimizer')) {
      const names = squaredSumInputNames(list.length);
      const inputs = Object.fromEntries(list.map((g, i) => [names[i]!, g]));
      return tf.sqrt(tf.engine().runKernel(SQUARED_SUM_KERNEL, inputs, {}) as tf.Tensor) as tf.Scalar;
    }
    const squares = list.map((g) => tf.sum(tf.square(tf.cast(g, 'float32'))));
    // Not tf.addN: tfjs' webgpu AddN binds every input at once, past WebGPU's limit of 8 storage
    // buffers for a model's hundreds of gradients; its Concat (under stack) splits them.
    return tf.sqrt(tf.sum(tf.stack(squares))) as tf.Scalar;
  });
}

/**
 * `torch.nn.utils.clip_grad_norm_`: scales every gradient by `clipCoefficient`'s coefficient.
 * Stays on the device: nothing is read back.
 */
export function clipGradNorm<G extends Gradients>(grads: G, maxNorm: number): ClippedGradients<G> {
  const { coefficient, totalNorm } = clipCoefficient(grads, maxNorm);
  const clipped = tf.tidy(() => gradientList(grads).map((g) => tf.mul(g, coefficient)));
  coefficient.dispose();
  return { grads: withGradients(grads, clipped), totalNorm };
}
