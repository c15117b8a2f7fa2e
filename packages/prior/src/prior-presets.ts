import type { DiffusionPriorConfig } from './diffusion-prior.js';

const PRESETS = {
  /**
   * For the CLIP `seed` preset (512-d embeddings, 512-wide text transformer, 256-token captions):
   * 12 blocks of width 512.
   */
  seed: {
    network: { dim: 512, depth: 12, heads: 8, numTextTokens: 256, textEncodingDim: 512, mlpRatio: 4 },
  },
  /** The same interface as `seed` with a quarter of the blocks and half-width MLPs, for quick runs. */
  small: {
    network: { dim: 512, depth: 4, heads: 8, numTextTokens: 256, textEncodingDim: 512, mlpRatio: 2 },
  },
} as const satisfies Record<string, Partial<DiffusionPriorConfig>>;

export type PriorPresetName = keyof typeof PRESETS;

export const priorPresetNames = Object.keys(PRESETS) as readonly PriorPresetName[];

/**
 * A preset's config (a fresh copy, with the diffusion defaults: 100 cosine steps, x0 prediction,
 * condDropProb 0.1), to pass to `new DiffusionPrior(config)`; an unknown name throws an Error
 * listing the valid ones.
 */
export function priorPreset(name: PriorPresetName): Partial<DiffusionPriorConfig> {
  if (!Object.hasOwn(PRESETS, name)) {
    throw new Error(`Unknown prior preset "${name}"; valid: ${priorPresetNames.join(', ')}`);
  }
  return structuredClone(PRESETS[name]) as Partial<DiffusionPriorConfig>;
}
