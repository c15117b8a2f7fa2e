import { Conv2d, Module, type Rng } from '@dalle2js/core';
import type * as tf from '@tensorflow/tfjs-core';

/** A stride-2 3x3 conv, like diffusers' `Downsample2D` (`conv`). */
export class Downsample2D extends Module {
  readonly conv: Conv2d;

  constructor(
    readonly channels: number,
    rng?: Rng,
  ) {
    super();
    this.conv = this.addModule('conv', new Conv2d(channels, channels, 3, { stride: 2, padding: 1, rng }));
  }

  /** [B, H, W, C] -> [B, H/2, W/2, C] (H and W even) */
  apply(x: tf.Tensor): tf.Tensor {
    return this.conv.apply(x);
  }
}
