import { Conv2d, GroupNorm, Linear, Module, type Rng } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { zeroInit } from './zero-init.js';

export interface ResnetBlockOptions {
  /** GroupNorm groups; must divide both channel counts. */
  normGroups: number;
  normEps: number;
  rng?: Rng;
}

/**
 * diffusers' `ResnetBlock2D` with `time_embedding_norm="scale_shift"`:
 * h = conv1(silu(norm1(x))); h = conv2(silu(norm2(h) * (1 + scale) + shift)); out = shortcut(x) + h,
 * where [scale, shift] = time_emb_proj(silu(emb)). The caller passes silu(emb), shared by all blocks.
 * conv2 starts at zero (guided-diffusion), so the block starts as the shortcut.
 */
export class ResnetBlock2D extends Module {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly time_emb_proj: Linear;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  /** A 1x1 conv when the channel count changes. */
  readonly conv_shortcut: Conv2d | undefined;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly timeEmbedDim: number,
    options: ResnetBlockOptions,
  ) {
    super();
    const { normGroups, normEps: eps, rng } = options;
    this.norm1 = this.addModule('norm1', new GroupNorm(normGroups, inChannels, { eps }));
    this.conv1 = this.addModule('conv1', new Conv2d(inChannels, outChannels, 3, { padding: 'same', rng }));
    this.time_emb_proj = this.addModule('time_emb_proj', new Linear(timeEmbedDim, 2 * outChannels, { rng }));
    this.norm2 = this.addModule('norm2', new GroupNorm(normGroups, outChannels, { eps }));
    this.conv2 = this.addModule(
      'conv2',
      zeroInit(new Conv2d(outChannels, outChannels, 3, { padding: 'same', rng })),
    );
    this.conv_shortcut =
      inChannels === outChannels
        ? undefined
        : this.addModule('conv_shortcut', new Conv2d(inChannels, outChannels, 1, { rng }));
  }

  /** x [B, H, W, in], activatedEmb = silu(emb) [B, timeEmbedDim] -> [B, H, W, out] */
  apply(x: tf.Tensor, activatedEmb: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = this.conv1.apply(this.norm1.apply(x, { activation: 'silu' })); // [B, H, W, out]
      // silu(norm2(h) (1 + scale) + shift), one fused kernel on webgpu.
      const scaleShift = this.time_emb_proj.apply(activatedEmb); // [B, 2 out]: scales, then shifts
      const skip = this.conv_shortcut === undefined ? x : this.conv_shortcut.apply(x);
      // The skip is added as conv2 stores its output, on webgpu.
      return this.conv2.apply(this.norm2.apply(h, { activation: 'silu', scaleShift }), { residual: skip });
    });
  }
}
