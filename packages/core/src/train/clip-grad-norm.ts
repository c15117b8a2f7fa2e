import * as tf from '@tensorflow/tfjs-core';
import { type Gradients, gradientList, withGradients } from './gradients.js';

export interface ClippedGradients<G extends Gradients> {
  /** New tensors, owned by the caller, in a container of the same kind as the input. */
  grads: G;
  /** The global L2 norm before clipping. Owned by the caller. */
  totalNorm: tf.Scalar;
}

/**
 * `torch.nn.utils.clip_grad_norm_`: scales every gradient by min(1, maxNorm / (totalNorm + 1e-6)),
 * where totalNorm is the L2 norm of all gradients together. Stays on the device: nothing is read back.
 */
export function clipGradNorm<G extends Gradients>(grads: G, maxNorm: number): ClippedGradients<G> {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be positive, got ${maxNorm}`);
  const list = gradientList(grads);
  const [totalNorm, ...clipped] = tf.tidy(() => {
    const squares = list.map((g) => tf.sum(tf.square(tf.cast(g, 'float32'))));
    const norm = tf.sqrt(squares.length === 0 ? tf.scalar(0) : tf.addN(squares));
    const coef = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    return [norm, ...list.map((g) => tf.mul(g, coef))];
  });
  return { grads: withGradients(grads, clipped), totalNorm: totalNorm as tf.Scalar };
}
