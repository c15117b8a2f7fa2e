import { Conv2d, Module, type Rng } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { upsampleNearest } from './upsample-nearest.js';

/** Nearest x2 then a 3x3 conv, like diffusers' `Upsample2D` (`conv`). */
export class Upsample2D extends Module {
  readonly conv: Conv2d;

  constructor(
    readonly channels: number,
    rng?: Rng,
  ) {
    super();
    this.conv = this.addModule('conv', new Conv2d(channels, channels, 3, { padding: 'same', rng }));
  }

  /** [B, H, W, C] -> [B, 2H, 2W, C] */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.conv.apply(upsampleNearest(x, 2)));
  }
}
