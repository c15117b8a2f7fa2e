import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../nn/module.js';
import { assertLastDim, assertPositiveInteger } from './check-shape.js';
import { groupNormKernelsEnabled, groupNormThroughKernels } from './group-norm.js';

export interface LayerNormOptions {
  /** Default 1e-5. */
  eps?: number;
}

/** `torch.nn.LayerNorm(dim)` over the last axis (biased variance, like PyTorch). */
export class LayerNorm extends Module {
  readonly weight: tf.Variable; // [dim]
  readonly bias: tf.Variable; // [dim]
  readonly eps: number;

  constructor(
    readonly dim: number,
    options: LayerNormOptions = {},
  ) {
    super();
    assertPositiveInteger('LayerNorm', 'dim', dim);
    this.eps = options.eps ?? 1e-5;
    this.weight = tf.tidy(() => this.addParameter('weight', tf.ones([dim])));
    this.bias = tf.tidy(() => this.addParameter('bias', tf.zeros([dim])));
  }

  /** [..., dim] -> [..., dim] */
  apply(x: tf.Tensor): tf.Tensor {
    assertLastDim('LayerNorm', x, this.dim);
    if (tf.getBackend() === 'webgpu' && groupNormKernelsEnabled()) {
      // A LayerNorm over the last axis is a GroupNorm of one group over [rows, 1, 1, dim]: our
      // GroupNorm programs then take 2 dispatches forward and 5 backward, not about 30. (On wasm
      // the plain ops are faster for the short rows of CLIP and the prior.)
      return tf.tidy(() => {
        const rows = tf.reshape(x, [-1, 1, 1, this.dim]);
        return tf.reshape(groupNormThroughKernels(rows, this.weight, this.bias, 1, this.eps), x.shape);
      });
    }
    return tf.tidy(() => {
      const centered = tf.sub(x, tf.mean(x, -1, true));
      const variance = tf.mean(tf.square(centered), -1, true);
      const normalized = tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(normalized, this.weight), this.bias);
    });
  }
}
