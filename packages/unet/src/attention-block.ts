import { GroupNorm, LayerNorm, Module, MultiheadAttention, type Rng } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { zeroInit } from './zero-init.js';

export interface AttentionBlockOptions {
  /** Self-attention over the H x W positions (`norm1`, `attn1`). */
  selfAttention: boolean;
  /** Cross-attention from the positions to the context tokens (`norm2`, `attn2`). */
  crossAttention: boolean;
  contextDim: number;
  headDim: number;
  normGroups: number;
  normEps: number;
  rng?: Rng;
}

/** The context tokens of every attention block: image tokens, then optional text tokens. */
/** A type rather than an interface, so that tf.tidy can return it inside its result. */
export type AttentionContext = {
  /** [B, S, contextDim] */
  tokens: tf.Tensor;
  /** [B, S], 1 = attend, 0 = padding; absent when every token is attended. */
  mask?: tf.Tensor;
};

/**
 * Residual attention on a feature map, named like diffusers' `BasicTransformerBlock` minus the
 * feed-forward: x + attn1(norm1(x)) over the positions (GroupNorm, as in guided-diffusion's
 * `AttentionBlock`), then x + attn2(norm2(x), context) (LayerNorm on the tokens). Both `out_proj`s
 * start at zero, so the block starts as the identity.
 */
export class AttentionBlock extends Module {
  readonly norm1: GroupNorm | undefined;
  readonly attn1: MultiheadAttention | undefined;
  readonly norm2: LayerNorm | undefined;
  readonly attn2: MultiheadAttention | undefined;

  constructor(
    readonly channels: number,
    options: AttentionBlockOptions,
  ) {
    super();
    const { headDim, normGroups, normEps: eps, rng } = options;
    const heads = channels / headDim;
    if (options.selfAttention) {
      this.norm1 = this.addModule('norm1', new GroupNorm(normGroups, channels, { eps }));
      this.attn1 = this.addModule('attn1', new MultiheadAttention(channels, heads, { rng }));
      zeroInit(this.attn1.out_proj);
    }
    if (options.crossAttention) {
      this.norm2 = this.addModule('norm2', new LayerNorm(channels, { eps }));
      this.attn2 = this.addModule(
        'attn2',
        new MultiheadAttention(channels, heads, { kvDim: options.contextDim, rng }),
      );
      zeroInit(this.attn2.out_proj);
    }
  }

  /** x [B, H, W, C], context tokens [B, S, contextDim] -> [B, H, W, C] */
  apply(x: tf.Tensor, context: AttentionContext | undefined): tf.Tensor {
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape as [number, number, number, number];
      let tokens = tf.reshape(x, [b, h * w, c]); // [B, HW, C]
      if (this.norm1 !== undefined && this.attn1 !== undefined) {
        const normed = tf.reshape(this.norm1.apply(x), [b, h * w, c]); // [B, HW, C]
        // The residual is added by the output projection's kernel, on webgpu.
        tokens = this.attn1.apply(normed, { residual: tokens });
      }
      if (this.norm2 !== undefined && this.attn2 !== undefined) {
        if (context === undefined) throw new Error('AttentionBlock: cross-attention needs context tokens');
        tokens = this.attn2.apply(this.norm2.apply(tokens), {
          context: context.tokens,
          keyPaddingMask: context.mask,
          residual: tokens,
        });
      }
      return tf.reshape(tokens, [b, h, w, c]);
    });
  }
}
