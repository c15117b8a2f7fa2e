import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../nn/module.js';
import { assertLastDim, assertPositiveInteger, assertRank } from './check-shape.js';

export interface GroupNormOptions {
  /** Default 1e-5. */
  eps?: number;
}

/** `torch.nn.GroupNorm(numGroups, numChannels)` on NHWC input. */
export class GroupNorm extends Module {
  readonly weight: tf.Variable; // [C]
  readonly bias: tf.Variable; // [C]
  readonly eps: number;

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    options: GroupNormOptions = {},
  ) {
    super();
    assertPositiveInteger('GroupNorm', 'numGroups', numGroups);
    assertPositiveInteger('GroupNorm', 'numChannels', numChannels);
    if (numChannels % numGroups !== 0) {
      throw new Error(`GroupNorm: numChannels ${numChannels} is not divisible by numGroups ${numGroups}`);
    }
    this.eps = options.eps ?? 1e-5;
    this.weight = tf.tidy(() => this.addParameter('weight', tf.ones([numChannels])));
    this.bias = tf.tidy(() => this.addParameter('bias', tf.zeros([numChannels])));
  }

  /** [B, H, W, C] -> [B, H, W, C] */
  apply(x: tf.Tensor): tf.Tensor {
    assertRank('GroupNorm', x, 4, `[B, H, W, ${this.numChannels}]`);
    assertLastDim('GroupNorm', x, this.numChannels, 'channels');
    return tf.tidy(() => {
      const [b, h, w] = x.shape as [number, number, number, number];
      const g = this.numGroups;
      const grouped = tf.reshape(x, [b, h, w, g, this.numChannels / g]); // [B, H, W, G, C/G]
      const centered = tf.sub(grouped, tf.mean(grouped, [1, 2, 4], true));
      const variance = tf.mean(tf.square(centered), [1, 2, 4], true); // [B, 1, 1, G, 1]
      const normalized = tf.reshape(tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps))), x.shape);
      return tf.add(tf.mul(normalized, this.weight), this.bias);
    });
  }
}
