import type { UNetConfigInput } from './unet-config.js';

/**
 * Named configurations.
 * - `seed`: the 64x64 decoder: dim 128, dimMults [1, 2, 4, 8], 2 ResNet blocks per level, self- and
 *   cross-attention at 16 and 8 px (levels 2 and 3) and in the middle, CLIP image embedding 512.
 * - `small`: trains in minutes on a CPU: dim 32, dimMults [1, 2, 2], 1 ResNet block per level,
 *   cross-attention only at the lowest resolution and in the middle.
 */
export const unetPresets = {
  seed: {
    dim: 128,
    dimMults: [1, 2, 4, 8],
    numResnetBlocks: 2,
    imageEmbedDim: 512,
    selfAttention: [false, false, true, true],
    crossAttention: [false, false, true, true],
    midAttention: true,
    attentionHeadDim: 64,
    normGroups: 32,
  },
  small: {
    dim: 32,
    dimMults: [1, 2, 2],
    numResnetBlocks: 1,
    imageEmbedDim: 512,
    selfAttention: [false, false, false],
    crossAttention: [false, false, true],
    midAttention: true,
    attentionHeadDim: 32,
    normGroups: 8,
  },
} as const satisfies Record<string, UNetConfigInput>;

export type UNetPresetName = keyof typeof unetPresets;

/** A preset's config with `overrides` applied; an unknown name throws an Error listing the valid ones. */
export function unetPreset(name: string, overrides: UNetConfigInput = {}): UNetConfigInput {
  if (!Object.hasOwn(unetPresets, name)) {
    throw new Error(`Unknown UNet preset "${name}"; valid: ${Object.keys(unetPresets).join(', ')}`);
  }
  const preset = unetPresets[name as UNetPresetName];
  return structuredClone({ ...preset, ...overrides }) as UNetConfigInput;
}
