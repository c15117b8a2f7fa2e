/**
 * The decoder U-Net's configuration: a plain JSON object. Every field is optional in
 * `UNetConfigInput`; `resolveUNetConfig` fills the documented defaults and validates once.
 */
export interface UNetConfig {
  /** Base channel count; level i has `dim * dimMults[i]` channels. Default 128. */
  dim: number;
  /** Channel multiplier per resolution level, highest resolution first. Default [1, 2, 4, 8]. */
  dimMults: number[];
  /** Image channels of the input and of the prediction. Default 3. */
  channels: number;
  /** ResNet blocks per level on the way down (the way up has one more, for the extra skip). Default 2. */
  numResnetBlocks: number;
  /** Size of the CLIP image embedding the decoder is conditioned on. Default 512. */
  imageEmbedDim: number;
  /** Extra cross-attention context tokens made from the image embedding. Default 4. */
  numImageTokens: number;
  /** Feature size of the cross-attention context tokens. Default: `dim`. */
  contextDim: number;
  /** Feature size of the optional text encodings [B, S, textEmbedDim]; null for none. Default null. */
  textEmbedDim: number | null;
  /** Longest text sequence; sets the number of learned null text tokens. Default 77. */
  maxTextLen: number;
  /** Self-attention after each ResNet block, per level. Default [false, false, true, true]. */
  selfAttention: boolean[];
  /** Cross-attention to the context tokens after each ResNet block, per level. Default [false, false, true, true]. */
  crossAttention: boolean[];
  /** Self- and cross-attention between the two middle ResNet blocks. Default true. */
  midAttention: boolean;
  /** Channels per attention head; every attended channel count must be a multiple. Default 64. */
  attentionHeadDim: number;
  /** GroupNorm groups; every channel count must be a multiple. Default 32. */
  normGroups: number;
  /** GroupNorm / LayerNorm epsilon. Default 1e-5. */
  normEps: number;
  /** Predict 2 x channels: the target, then the variance interpolation of `learned_range`. Default false. */
  learnedVariance: boolean;
  /** Concatenate a (nearest-upsampled) low-resolution image to the input, for a cascade upsampler. Default false. */
  lowresCond: boolean;
  /**
   * Also project the image embedding onto a `grid` x `grid` map at the lowest resolution (one
   * zero-initialised Linear) and add it before the middle block. The time embedding and the
   * context tokens are the same at every pixel, so on their own they reach the picture's layout
   * only through the convolutions' zero padding, which a small decoder is slow to learn; the map
   * lets the embedding say where things go. The U-Net then takes only `grid * 2^(levels - 1)`
   * pixel inputs. Not in DALL-E 2 or diffusers. Default null (none).
   */
  imageEmbedGrid: number | null;
}

export type UNetConfigInput = Partial<UNetConfig>;

const UNET_CONFIG_KEYS: readonly (keyof UNetConfig)[] = [
  'dim',
  'dimMults',
  'channels',
  'numResnetBlocks',
  'imageEmbedDim',
  'numImageTokens',
  'contextDim',
  'textEmbedDim',
  'maxTextLen',
  'selfAttention',
  'crossAttention',
  'midAttention',
  'attentionHeadDim',
  'normGroups',
  'normEps',
  'learnedVariance',
  'lowresCond',
  'imageEmbedGrid',
];

/** Fills the documented defaults and throws an Error describing the first invalid value. */
export function resolveUNetConfig(input: UNetConfigInput = {}): UNetConfig {
  for (const key of Object.keys(input)) {
    if (!(UNET_CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new Error(`UNet config: unknown key "${key}"; valid keys: ${UNET_CONFIG_KEYS.join(', ')}`);
    }
  }
  const dim = input.dim ?? 128;
  const dimMults = input.dimMults ?? [1, 2, 4, 8];
  if (!Array.isArray(dimMults) || dimMults.length === 0) {
    throw new Error(
      `UNet config: dimMults must be a non-empty array of positive integers, e.g. [1, 2, 4, 8], got ${JSON.stringify(dimMults)}`,
    );
  }
  const levels = dimMults.length;
  const lowLevels = (count: number) => dimMults.map((_, i) => i >= levels - count);
  const config: UNetConfig = {
    dim,
    dimMults: [...dimMults],
    channels: input.channels ?? 3,
    numResnetBlocks: input.numResnetBlocks ?? 2,
    imageEmbedDim: input.imageEmbedDim ?? 512,
    numImageTokens: input.numImageTokens ?? 4,
    contextDim: input.contextDim ?? dim,
    textEmbedDim: input.textEmbedDim ?? null,
    maxTextLen: input.maxTextLen ?? 77,
    selfAttention: [...(input.selfAttention ?? lowLevels(2))],
    crossAttention: [...(input.crossAttention ?? lowLevels(2))],
    midAttention: input.midAttention ?? true,
    attentionHeadDim: input.attentionHeadDim ?? 64,
    normGroups: input.normGroups ?? 32,
    normEps: input.normEps ?? 1e-5,
    learnedVariance: input.learnedVariance ?? false,
    lowresCond: input.lowresCond ?? false,
    imageEmbedGrid: input.imageEmbedGrid ?? null,
  };
  validate(config);
  return config;
}

/** Channels at each level: `dim * dimMults[i]`. */
export function levelChannels(config: UNetConfig): number[] {
  return config.dimMults.map((mult) => config.dim * mult);
}

/** The image side a U-Net with `imageEmbedGrid` takes (null without one). */
export function gridImageSize(config: UNetConfig): number | null {
  const { imageEmbedGrid, dimMults } = config;
  return imageEmbedGrid === null ? null : imageEmbedGrid * 2 ** (dimMults.length - 1);
}

/** Whether anything attends to the context tokens (otherwise no context is built). */
export function usesContext(config: UNetConfig): boolean {
  return config.midAttention || config.crossAttention.some((flag) => flag);
}

function validate(config: UNetConfig): void {
  const positive: (keyof UNetConfig)[] = [
    'dim',
    'channels',
    'numResnetBlocks',
    'imageEmbedDim',
    'numImageTokens',
    'contextDim',
    'maxTextLen',
    'attentionHeadDim',
    'normGroups',
  ];
  for (const key of positive) {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new Error(`UNet config: ${key} must be a positive integer, got ${JSON.stringify(value)}`);
    }
  }
  const { textEmbedDim } = config;
  if (textEmbedDim !== null && !(Number.isInteger(textEmbedDim) && textEmbedDim > 0)) {
    throw new Error(
      `UNet config: textEmbedDim must be a positive integer or null, got ${JSON.stringify(textEmbedDim)}`,
    );
  }
  const { imageEmbedGrid } = config;
  if (imageEmbedGrid !== null && !(Number.isInteger(imageEmbedGrid) && imageEmbedGrid > 0)) {
    throw new Error(
      `UNet config: imageEmbedGrid must be a positive integer or null, got ${JSON.stringify(imageEmbedGrid)}`,
    );
  }
  if (!(typeof config.normEps === 'number' && config.normEps > 0)) {
    throw new Error(`UNet config: normEps must be a positive number, got ${JSON.stringify(config.normEps)}`);
  }
  for (const key of ['midAttention', 'learnedVariance', 'lowresCond'] as const) {
    if (typeof config[key] !== 'boolean') {
      throw new Error(`UNet config: ${key} must be true or false, got ${JSON.stringify(config[key])}`);
    }
  }
  const levels = config.dimMults.length;
  for (const mult of config.dimMults) {
    if (!Number.isInteger(mult) || mult <= 0) {
      throw new Error(
        `UNet config: dimMults must hold positive integers, got [${config.dimMults.join(', ')}]`,
      );
    }
  }
  for (const key of ['selfAttention', 'crossAttention'] as const) {
    const flags = config[key];
    if (!Array.isArray(flags) || flags.length !== levels || flags.some((flag) => typeof flag !== 'boolean')) {
      throw new Error(
        `UNet config: ${key} must hold one true/false per level (${levels}, like dimMults), got ${JSON.stringify(flags)}`,
      );
    }
  }
  if (config.textEmbedDim !== null && !usesContext(config)) {
    throw new Error(
      'UNet config: textEmbedDim is set but nothing attends to the context; enable crossAttention on a level or midAttention',
    );
  }
  const channels = levelChannels(config);
  for (const c of channels) {
    if (c % config.normGroups !== 0) {
      throw new Error(
        `UNet config: normGroups ${config.normGroups} must divide every level's channels [${channels.join(', ')}]`,
      );
    }
  }
  const last = channels[levels - 1] as number;
  const attended = channels.filter((_, i) => config.selfAttention[i] || config.crossAttention[i]);
  if (config.midAttention) attended.push(last);
  for (const c of attended) {
    if (c % config.attentionHeadDim !== 0) {
      throw new Error(
        `UNet config: attentionHeadDim ${config.attentionHeadDim} must divide the channels of every attended level, got ${c}`,
      );
    }
  }
}
