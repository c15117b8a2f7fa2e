import { Linear, Module, ModuleList, type Rng, silu, sinusoidalEmbedding } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { AttentionBlock, type AttentionContext } from './attention-block.js';
import { Downsample2D } from './downsample.js';
import { ResnetBlock2D } from './resnet-block.js';
import type { UNetConfig } from './unet-config.js';
import { Upsample2D } from './upsample.js';

/** Settings shared by every block of one U-Net. */
export interface BlockSettings {
  config: UNetConfig;
  timeEmbedDim: number;
  rng: Rng | undefined;
}

/** diffusers' `TimestepEmbedding`: linear_2(silu(linear_1(sinusoid(t)))). */
export class TimestepEmbedding extends Module {
  readonly linear_1: Linear;
  readonly linear_2: Linear;

  constructor(
    readonly dim: number,
    timeEmbedDim: number,
    rng: Rng | undefined,
  ) {
    super();
    this.linear_1 = this.addModule('linear_1', new Linear(dim, timeEmbedDim, { rng }));
    this.linear_2 = this.addModule('linear_2', new Linear(timeEmbedDim, timeEmbedDim, { rng }));
  }

  /** [B] -> [B, timeEmbedDim] */
  apply(timesteps: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      // guided-diffusion's embedding: [cos, sin], frequencies exp(-ln(10000) i / half).
      const sinusoid = sinusoidalEmbedding(timesteps as tf.Tensor1D, this.dim, {
        flipSinToCos: true,
        downscaleFreqShift: 0,
      }); // [B, dim]
      return this.linear_2.apply(silu(this.linear_1.apply(sinusoid)));
    });
  }
}

function attentionBlock(channels: number, level: number | 'mid', settings: BlockSettings): AttentionBlock {
  const { config, rng } = settings;
  return new AttentionBlock(channels, {
    selfAttention: level === 'mid' ? config.midAttention : (config.selfAttention[level] as boolean),
    crossAttention: level === 'mid' ? config.midAttention : (config.crossAttention[level] as boolean),
    contextDim: config.contextDim,
    headDim: config.attentionHeadDim,
    normGroups: config.normGroups,
    normEps: config.normEps,
    rng,
  });
}

function resnet(inChannels: number, outChannels: number, settings: BlockSettings): ResnetBlock2D {
  const { config, timeEmbedDim, rng } = settings;
  return new ResnetBlock2D(inChannels, outChannels, timeEmbedDim, {
    normGroups: config.normGroups,
    normEps: config.normEps,
    rng,
  });
}

function hasAttention(config: UNetConfig, level: number): boolean {
  return (config.selfAttention[level] as boolean) || (config.crossAttention[level] as boolean);
}

/** One level on the way down; every block's output is pushed to `skips`. */
export class DownBlock2D extends Module {
  readonly resnets: ModuleList<ResnetBlock2D>;
  readonly attentions: ModuleList<AttentionBlock> | undefined;
  readonly downsamplers: ModuleList<Downsample2D> | undefined;

  constructor(
    inChannels: number,
    channels: number,
    level: number,
    downsample: boolean,
    settings: BlockSettings,
  ) {
    super();
    const count = settings.config.numResnetBlocks;
    const resnets = Array.from({ length: count }, (_, j) =>
      resnet(j === 0 ? inChannels : channels, channels, settings),
    );
    this.resnets = this.addModule('resnets', new ModuleList(resnets));
    if (hasAttention(settings.config, level)) {
      const attentions = Array.from({ length: count }, () => attentionBlock(channels, level, settings));
      this.attentions = this.addModule('attentions', new ModuleList(attentions));
    }
    if (downsample) {
      this.downsamplers = this.addModule(
        'downsamplers',
        new ModuleList([new Downsample2D(channels, settings.rng)]),
      );
    }
  }

  /** [B, H, W, in] -> [B, H/2, W/2, C] (or [B, H, W, C] at the last level) */
  apply(x: tf.Tensor, emb: tf.Tensor, context: AttentionContext | undefined, skips: tf.Tensor[]): tf.Tensor {
    let h = x;
    for (const [j, block] of this.resnets.items.entries()) {
      h = block.apply(h, emb);
      if (this.attentions !== undefined) h = this.attentions.at(j).apply(h, context);
      skips.push(h);
    }
    if (this.downsamplers !== undefined) {
      h = this.downsamplers.at(0).apply(h);
      skips.push(h);
    }
    return h;
  }
}

/** resnet -> attention -> resnet at the lowest resolution. */
export class MidBlock2D extends Module {
  readonly resnets: ModuleList<ResnetBlock2D>;
  readonly attentions: ModuleList<AttentionBlock> | undefined;

  constructor(channels: number, settings: BlockSettings) {
    super();
    this.resnets = this.addModule(
      'resnets',
      new ModuleList([resnet(channels, channels, settings), resnet(channels, channels, settings)]),
    );
    if (settings.config.midAttention) {
      this.attentions = this.addModule(
        'attentions',
        new ModuleList([attentionBlock(channels, 'mid', settings)]),
      );
    }
  }

  /** [B, h, w, C] -> [B, h, w, C] */
  apply(x: tf.Tensor, emb: tf.Tensor, context: AttentionContext | undefined): tf.Tensor {
    let h = this.resnets.at(0).apply(x, emb);
    if (this.attentions !== undefined) h = this.attentions.at(0).apply(h, context);
    return this.resnets.at(1).apply(h, emb);
  }
}

/** One level on the way up: each block takes [h, skip] concatenated on channels. */
export class UpBlock2D extends Module {
  readonly resnets: ModuleList<ResnetBlock2D>;
  readonly attentions: ModuleList<AttentionBlock> | undefined;
  readonly upsamplers: ModuleList<Upsample2D> | undefined;

  constructor(
    inChannels: number,
    skipChannels: number[],
    channels: number,
    level: number,
    upsample: boolean,
    settings: BlockSettings,
  ) {
    super();
    const resnets = skipChannels.map((skip, j) =>
      resnet((j === 0 ? inChannels : channels) + skip, channels, settings),
    );
    this.resnets = this.addModule('resnets', new ModuleList(resnets));
    if (hasAttention(settings.config, level)) {
      const attentions = skipChannels.map(() => attentionBlock(channels, level, settings));
      this.attentions = this.addModule('attentions', new ModuleList(attentions));
    }
    if (upsample)
      this.upsamplers = this.addModule(
        'upsamplers',
        new ModuleList([new Upsample2D(channels, settings.rng)]),
      );
  }

  /** [B, H, W, in] -> [B, 2H, 2W, C] (or [B, H, W, C] at the top level); pops its skips */
  apply(x: tf.Tensor, emb: tf.Tensor, context: AttentionContext | undefined, skips: tf.Tensor[]): tf.Tensor {
    let h = x;
    for (const [j, block] of this.resnets.items.entries()) {
      const skip = skips.pop();
      if (skip === undefined) throw new Error('UNet: ran out of skip connections');
      h = block.apply(tf.concat([h, skip], 3), emb); // [B, H, W, C + skip]
      if (this.attentions !== undefined) h = this.attentions.at(j).apply(h, context);
    }
    if (this.upsamplers !== undefined) h = this.upsamplers.at(0).apply(h);
    return h;
  }
}
