import { Conv2d, GroupNorm, Module, ModuleList, type Rng, silu } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { CondProjection, type UNetCondition } from './cond-projection.js';
import { type BlockSettings, DownBlock2D, MidBlock2D, TimestepEmbedding, UpBlock2D } from './unet-blocks.js';
import {
  gridImageSize,
  levelChannels,
  resolveUNetConfig,
  type UNetConfig,
  type UNetConfigInput,
} from './unet-config.js';
import { upsampleNearest } from './upsample-nearest.js';
import { zeroInit } from './zero-init.js';

/** One timestep per sample ([B] tensor or array), or one number for the whole batch. */
export type UNetTimesteps = tf.Tensor | number | readonly number[];

export interface UNetOptions {
  /** Draws the initial weights; default: core's global generator. */
  rng?: Rng;
}

/** Classifier-free guidance dropout for training: at most one of `condKeepMask` and `condDropProb`. */
export interface UNetForwardOptions {
  /** [B] (bool, or 1 = keep / 0 = use the learned null conditioning). */
  condKeepMask?: tf.Tensor;
  /** Replace each row's conditioning by the null one with this probability, drawn from `rng`. Default 0. */
  condDropProb?: number;
  rng?: Rng;
}

/**
 * The DALL-E 2 decoder U-Net (channels-last), laid out like diffusers' `UNet2DConditionModel`:
 * conv_in -> down_blocks (ResNet blocks, optional attention, stride-2 conv) -> mid_block ->
 * up_blocks (ResNet blocks on [h, skip], optional attention, nearest x2 + conv) -> conv_out.
 * The timestep's sinusoidal embedding goes through an MLP; the CLIP image embedding is added to it
 * and also becomes context tokens for cross-attention (see `CondProjection`).
 */
export class UNet extends Module {
  readonly config: UNetConfig;
  readonly timeEmbedDim: number;
  readonly outChannels: number;
  readonly time_embedding: TimestepEmbedding;
  readonly cond_proj: CondProjection;
  readonly conv_in: Conv2d;
  readonly down_blocks: ModuleList<DownBlock2D>;
  readonly mid_block: MidBlock2D;
  /** Lowest resolution first, like diffusers. */
  readonly up_blocks: ModuleList<UpBlock2D>;
  readonly conv_norm_out: GroupNorm;
  readonly conv_out: Conv2d;

  constructor(config: UNetConfigInput = {}, options: UNetOptions = {}) {
    super();
    this.config = resolveUNetConfig(config);
    const { dim, channels, numResnetBlocks, normGroups, normEps: eps } = this.config;
    const { rng } = options;
    const widths = levelChannels(this.config);
    const levels = widths.length;
    this.timeEmbedDim = 4 * dim;
    this.outChannels = this.config.learnedVariance ? 2 * channels : channels;
    const settings: BlockSettings = { config: this.config, timeEmbedDim: this.timeEmbedDim, rng };

    this.time_embedding = this.addModule(
      'time_embedding',
      new TimestepEmbedding(dim, this.timeEmbedDim, rng),
    );
    this.cond_proj = this.addModule('cond_proj', new CondProjection(this.config, this.timeEmbedDim, rng));
    const inChannels = this.config.lowresCond ? 2 * channels : channels;
    this.conv_in = this.addModule(
      'conv_in',
      new Conv2d(inChannels, widths[0] as number, 3, { padding: 'same', rng }),
    );

    // Channels of the skips, in the order the down path pushes them: conv_in, then every block.
    const skips = [widths[0] as number];
    const downs: DownBlock2D[] = [];
    for (let i = 0; i < levels; i++) {
      const width = widths[i] as number;
      const last = i === levels - 1;
      downs.push(new DownBlock2D(widths[Math.max(i - 1, 0)] as number, width, i, !last, settings));
      for (let j = 0; j < numResnetBlocks + (last ? 0 : 1); j++) skips.push(width);
    }
    this.down_blocks = this.addModule('down_blocks', new ModuleList(downs));

    const bottom = widths[levels - 1] as number;
    this.mid_block = this.addModule('mid_block', new MidBlock2D(bottom, settings));

    const ups: UpBlock2D[] = [];
    let previous = bottom;
    for (let i = levels - 1; i >= 0; i--) {
      const skipChannels = skips.splice(-(numResnetBlocks + 1)).reverse(); // popped in this order
      ups.push(new UpBlock2D(previous, skipChannels, widths[i] as number, i, i > 0, settings));
      previous = widths[i] as number;
    }
    this.up_blocks = this.addModule('up_blocks', new ModuleList(ups));

    this.conv_norm_out = this.addModule(
      'conv_norm_out',
      new GroupNorm(normGroups, widths[0] as number, { eps }),
    );
    this.conv_out = this.addModule(
      'conv_out',
      zeroInit(new Conv2d(widths[0] as number, this.outChannels, 3, { padding: 'same', rng })),
    );
  }

  /**
   * x [B, H, W, channels] (H, W multiples of 2^(levels - 1)), timesteps [B] ->
   * [B, H, W, outChannels] (2 x channels with `learnedVariance`: the target, then the variance values).
   */
  apply(
    x: tf.Tensor,
    timesteps: UNetTimesteps,
    cond: UNetCondition,
    options: UNetForwardOptions = {},
  ): tf.Tensor4D {
    this.checkInputs(x, cond);
    checkTimesteps(timesteps, x.shape[0] as number);
    const keepValues = condKeepValues(x.shape[0] as number, options);
    return tf.tidy(() => {
      const keep =
        options.condKeepMask !== undefined
          ? tf.cast(tf.reshape(options.condKeepMask, [-1]), 'float32')
          : keepValues === undefined
            ? undefined
            : tf.tensor1d(keepValues);
      let input = x;
      if (cond.lowresImage !== undefined) {
        const factor = (x.shape[1] as number) / (cond.lowresImage.shape[1] as number);
        input = tf.concat([x, upsampleNearest(cond.lowresImage, factor)], 3); // [B, H, W, 2 * channels]
      }
      const projected = this.cond_proj.apply(cond, keep);
      const emb = tf.add(
        this.time_embedding.apply(timestepTensor(timesteps, x.shape[0] as number)),
        projected.timeEmbedding,
      ); // [B, timeEmbedDim]
      const activatedEmb = silu(emb);
      const context = projected.context;

      let h = this.conv_in.apply(input); // [B, H, W, dim]
      const skips: tf.Tensor[] = [h];
      for (const block of this.down_blocks.items) h = block.apply(h, activatedEmb, context, skips);
      if (projected.grid !== undefined) h = tf.add(h, projected.grid);
      h = this.mid_block.apply(h, activatedEmb, context); // [B, H / 2^(L-1), W / 2^(L-1), dim * mults[L-1]]
      for (const block of this.up_blocks.items) h = block.apply(h, activatedEmb, context, skips);
      return this.conv_out.apply(this.conv_norm_out.apply(h, { activation: 'silu' })) as tf.Tensor4D; // [B, H, W, outChannels]
    });
  }

  /**
   * Classifier-free guidance in one batch of 2B: uncond + scale * (cond - uncond), where the
   * unconditional half uses the learned null embedding and null text tokens. With `learnedVariance`,
   * only the target channels are guided; the variance channels come from the conditional half.
   */
  forwardWithGuidance(
    x: tf.Tensor,
    timesteps: UNetTimesteps,
    cond: UNetCondition,
    scale: number,
  ): tf.Tensor4D {
    this.checkInputs(x, cond);
    checkTimesteps(timesteps, x.shape[0] as number);
    if (!Number.isFinite(scale))
      throw new Error(`UNet.forwardWithGuidance: scale must be a finite number, got ${scale}`);
    const b = x.shape[0] as number;
    return tf.tidy(() => {
      const twice = (t: tf.Tensor | undefined) => (t === undefined ? undefined : tf.concat([t, t], 0));
      const doubled: UNetCondition = {
        imageEmbed: tf.concat([cond.imageEmbed, cond.imageEmbed], 0),
        textEncodings: twice(cond.textEncodings),
        textMask: twice(cond.textMask),
        lowresImage: twice(cond.lowresImage),
      };
      const keep = tf.concat([tf.ones([b]), tf.zeros([b])], 0); // [2B]: conditional, then unconditional
      const t = timestepTensor(timesteps, b);
      const out = this.apply(tf.concat([x, x], 0), tf.concat([t, t], 0), doubled, {
        condKeepMask: keep,
      });
      const [conditional, unconditional] = tf.split(out, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
      const c = this.config.channels;
      const target = (t: tf.Tensor4D) => tf.slice(t, [0, 0, 0, 0], [-1, -1, -1, c]);
      const guided = tf.add(
        target(unconditional),
        tf.mul(tf.sub(target(conditional), target(unconditional)), scale),
      ); // [B, H, W, channels]
      if (!this.config.learnedVariance) return guided as tf.Tensor4D;
      return tf.concat([guided, tf.slice(conditional, [0, 0, 0, c], [-1, -1, -1, c])], 3) as tf.Tensor4D;
    });
  }

  private checkInputs(x: tf.Tensor, cond: UNetCondition): void {
    const { channels, imageEmbedDim, textEmbedDim, maxTextLen, lowresCond, dimMults } = this.config;
    const shape = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;
    const multiple = 2 ** (dimMults.length - 1);
    const [b, h, w, c] = x.shape;
    if (x.rank !== 4 || c !== channels || (h as number) % multiple !== 0 || (w as number) % multiple !== 0) {
      throw new Error(
        `UNet: expected x of shape [B, H, W, ${channels}] with H and W multiples of ${multiple}, got ${shape(x)}`,
      );
    }
    const gridSize = gridImageSize(this.config);
    if (gridSize !== null && (h !== gridSize || w !== gridSize)) {
      throw new Error(
        `UNet: with imageEmbedGrid ${this.config.imageEmbedGrid} the input must be ${gridSize}x${gridSize} pixels, got ${shape(x)}`,
      );
    }
    const { imageEmbed, textEncodings, textMask, lowresImage } = cond;
    if (
      imageEmbed === undefined ||
      imageEmbed.rank !== 2 ||
      imageEmbed.shape[0] !== b ||
      imageEmbed.shape[1] !== imageEmbedDim
    ) {
      throw new Error(
        `UNet: expected imageEmbed of shape [${b}, ${imageEmbedDim}], got ${imageEmbed === undefined ? 'none' : shape(imageEmbed)}`,
      );
    }
    if (textEncodings !== undefined) {
      if (textEmbedDim === null)
        throw new Error('UNet: got textEncodings but the config has textEmbedDim null');
      const s = textEncodings.shape[1] as number;
      if (
        textEncodings.rank !== 3 ||
        textEncodings.shape[0] !== b ||
        textEncodings.shape[2] !== textEmbedDim ||
        s > maxTextLen
      ) {
        throw new Error(
          `UNet: expected textEncodings of shape [${b}, S <= ${maxTextLen}, ${textEmbedDim}], got ${shape(textEncodings)}`,
        );
      }
      if (
        textMask !== undefined &&
        (textMask.rank !== 2 || textMask.shape[0] !== b || textMask.shape[1] !== s)
      ) {
        throw new Error(`UNet: expected textMask of shape [${b}, ${s}], got ${shape(textMask)}`);
      }
    } else if (textMask !== undefined) {
      throw new Error('UNet: got textMask without textEncodings');
    }
    if (lowresCond !== (lowresImage !== undefined)) {
      throw new Error(
        lowresCond
          ? 'UNet: the config has lowresCond, so cond.lowresImage is required'
          : 'UNet: got lowresImage but the config has lowresCond false',
      );
    }
    if (lowresImage !== undefined) {
      const [lb, lh, lw, lc] = lowresImage.shape as number[];
      const factor = (h as number) / (lh as number);
      if (
        lowresImage.rank !== 4 ||
        lb !== b ||
        lc !== channels ||
        !Number.isInteger(factor) ||
        (w as number) / (lw as number) !== factor
      ) {
        throw new Error(
          `UNet: expected lowresImage of shape [${b}, H / f, W / f, ${channels}] for an integer f, got ${shape(lowresImage)} for x ${shape(x)}`,
        );
      }
    }
  }
}

function checkTimesteps(timesteps: UNetTimesteps, batch: number): void {
  if (typeof timesteps === 'number') {
    if (!Number.isFinite(timesteps)) throw new Error(`UNet: timestep must be finite, got ${timesteps}`);
    return;
  }
  const shape = timesteps instanceof tf.Tensor ? timesteps.shape : [timesteps.length];
  if (shape.length !== 1 || shape[0] !== batch) {
    throw new Error(
      `UNet: expected timesteps of shape [${batch}] (or one number), got [${shape.join(', ')}]`,
    );
  }
}

/** [B] float32; the caller disposes it (inside a tidy). */
function timestepTensor(timesteps: UNetTimesteps, batch: number): tf.Tensor1D {
  if (typeof timesteps === 'number') return tf.fill([batch], timesteps);
  if (timesteps instanceof tf.Tensor) return tf.cast(timesteps, 'float32') as tf.Tensor1D;
  return tf.tensor1d([...timesteps], 'float32');
}

/** Row-wise keep decisions drawn from `rng`, or undefined when nothing is dropped at random. */
function condKeepValues(batch: number, options: UNetForwardOptions): Float32Array | undefined {
  const { condKeepMask, condDropProb = 0, rng } = options;
  if (!(condDropProb >= 0 && condDropProb <= 1))
    throw new Error(`UNet: condDropProb must be in [0, 1], got ${condDropProb}`);
  if (condKeepMask !== undefined) {
    if (condDropProb > 0) throw new Error('UNet: pass either condKeepMask or condDropProb, not both');
    if (condKeepMask.size !== batch) {
      throw new Error(
        `UNet: expected condKeepMask of shape [${batch}], got [${condKeepMask.shape.join(', ')}]`,
      );
    }
    return undefined;
  }
  if (condDropProb === 0) return undefined;
  if (rng === undefined) throw new Error('UNet: condDropProb needs an rng to draw which rows to drop');
  const draws = rng.uniform(batch);
  return Float32Array.from(draws, (u) => (u < condDropProb ? 0 : 1));
}
