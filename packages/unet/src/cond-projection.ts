import { LayerNorm, Linear, Module, type Rng } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import type { AttentionContext } from './attention-block.js';
import { levelChannels, type UNetConfig, usesContext } from './unet-config.js';
import { zeroInit } from './zero-init.js';

/** What the decoder is conditioned on, besides the noisy image and the timestep. */
export interface UNetCondition {
  /** CLIP image embedding [B, imageEmbedDim]. */
  imageEmbed: tf.Tensor;
  /** Optional text encodings [B, S, textEmbedDim], S <= maxTextLen (needs `textEmbedDim`). */
  textEncodings?: tf.Tensor;
  /** [B, S], 1 = token, 0 = padding; default all tokens. */
  textMask?: tf.Tensor;
  /** Low-resolution image [B, H/f, W/f, channels] for a cascade upsampler (needs `lowresCond`). */
  lowresImage?: tf.Tensor;
}

export interface ProjectedCondition {
  /** Added to the time embedding: [B, timeEmbedDim]. */
  timeEmbedding: tf.Tensor;
  /** Cross-attention context, when anything attends to it. */
  context: AttentionContext | undefined;
  /** With `imageEmbedGrid`: [B, grid, grid, lowest level's channels], added before the middle block. */
  grid?: tf.Tensor;
}

/**
 * Turns the CLIP image embedding (and optional text encodings) into a time-embedding offset and
 * cross-attention tokens, like diffusers' `UnCLIPTextProjModel`. Rows whose `keep` is 0 use the
 * learned null image embedding and null text tokens instead, for classifier-free guidance.
 */
export class CondProjection extends Module {
  /** Learned "no image" embedding [imageEmbedDim], zero-initialised like diffusers'. */
  readonly null_image_embed: tf.Variable;
  readonly image_to_time: Linear;
  readonly image_to_tokens: Linear | undefined;
  readonly text_to_context: Linear | undefined;
  readonly text_norm: LayerNorm | undefined;
  /** Learned "no text" tokens [maxTextLen, contextDim], zero-initialised. */
  readonly null_text_tokens: tf.Variable | undefined;
  /** With `imageEmbedGrid`: the embedding onto the lowest level's map, zero-initialised. */
  readonly image_to_grid: Linear | undefined;

  constructor(
    readonly config: UNetConfig,
    readonly timeEmbedDim: number,
    rng?: Rng,
  ) {
    super();
    const { imageEmbedDim, numImageTokens, contextDim, textEmbedDim, maxTextLen } = config;
    this.null_image_embed = this.addParameter('null_image_embed', tf.zeros([imageEmbedDim]));
    this.image_to_time = this.addModule('image_to_time', new Linear(imageEmbedDim, timeEmbedDim, { rng }));
    if (usesContext(config)) {
      this.image_to_tokens = this.addModule(
        'image_to_tokens',
        new Linear(imageEmbedDim, numImageTokens * contextDim, { rng }),
      );
      if (textEmbedDim !== null) {
        this.text_to_context = this.addModule(
          'text_to_context',
          new Linear(textEmbedDim, contextDim, { rng }),
        );
        this.text_norm = this.addModule('text_norm', new LayerNorm(contextDim, { eps: config.normEps }));
        this.null_text_tokens = this.addParameter('null_text_tokens', tf.zeros([maxTextLen, contextDim]));
      }
    }
    if (config.imageEmbedGrid !== null) {
      const cells = config.imageEmbedGrid ** 2 * (levelChannels(config).at(-1) as number);
      this.image_to_grid = this.addModule(
        'image_to_grid',
        zeroInit(new Linear(imageEmbedDim, cells, { rng })),
      );
    }
  }

  /** keep [B] float, 1 = conditional, 0 = null; absent = every row conditional. */
  apply(cond: UNetCondition, keep: tf.Tensor | undefined): ProjectedCondition {
    return tf.tidy(() => {
      const b = cond.imageEmbed.shape[0] as number;
      const keepColumn = keep === undefined ? undefined : tf.reshape(keep, [b, 1]); // [B, 1]
      const image =
        keepColumn === undefined ? cond.imageEmbed : mix(cond.imageEmbed, this.null_image_embed, keepColumn); // [B, E]
      const side = this.config.imageEmbedGrid ?? 0;
      return {
        timeEmbedding: this.image_to_time.apply(image), // [B, timeEmbedDim]
        context: this.context(image, cond, keepColumn),
        grid: this.image_to_grid && tf.reshape(this.image_to_grid.apply(image), [b, side, side, -1]), // [B, g, g, C]
      };
    });
  }

  /** The image tokens, then the (null-mixed) text tokens; undefined when nothing attends to them. */
  private context(
    image: tf.Tensor,
    cond: UNetCondition,
    keepColumn: tf.Tensor | undefined,
  ): AttentionContext | undefined {
    if (this.image_to_tokens === undefined) return undefined;
    const { numImageTokens, contextDim } = this.config;
    const b = image.shape[0] as number;
    const imageTokens = tf.reshape(this.image_to_tokens.apply(image), [b, numImageTokens, contextDim]); // [B, N, ctx]
    const { textEncodings, textMask } = cond;
    if (textEncodings === undefined || this.text_to_context === undefined || this.text_norm === undefined) {
      return { tokens: imageTokens };
    }
    const s = textEncodings.shape[1] as number;
    let text = this.text_norm.apply(this.text_to_context.apply(textEncodings)); // [B, S, ctx]
    let mask = textMask === undefined ? tf.ones([b, s]) : tf.cast(textMask, 'float32'); // [B, S]
    if (keepColumn !== undefined && this.null_text_tokens !== undefined) {
      const nullText = tf.slice(this.null_text_tokens, [0, 0], [s, contextDim]); // [S, ctx]
      text = mix(text, nullText, tf.reshape(keepColumn, [b, 1, 1]));
      // A dropped row attends to all of its null tokens.
      mask = mix(mask, tf.ones([s]), keepColumn);
    }
    const tokens = tf.concat([imageTokens, text], 1); // [B, N + S, ctx]
    return { tokens, mask: tf.concat([tf.ones([b, numImageTokens]), mask], 1) };
  }
}

/** keep * value + (1 - keep) * fallback, with `fallback` broadcast over the batch. */
function mix(value: tf.Tensor, fallback: tf.Tensor, keep: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(value, keep), tf.mul(fallback, tf.sub(1, keep)));
}
