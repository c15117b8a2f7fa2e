/**
 * Forward: inputs x [B, H, W, C], weight [C], bias [C]; outputs y and the statistics [2, B, G]: the
 * groups' means, then their 1 / sqrt(variance + eps) (one tensor: on webgpu, one dispatch writes both).
 */
export const GROUP_NORM_KERNEL = 'Dalle2jsGroupNorm';
/** Backward: inputs dy, x, weight, statistics; outputs dx, dWeight [C], dBias [C]. */
export const GROUP_NORM_GRAD_KERNEL = 'Dalle2jsGroupNormGrad';

/** The forward kernel's attributes. */
export interface GroupNormAttrs {
  groups: number;
  eps: number;
  /**
   * Default true. False where no gradient will need the statistics: a backend may then return
   * [y] alone (webgpu: one dispatch instead of two).
   */
  withStatistics?: boolean;
}

/** The same as GROUP_NORM_KERNEL followed by SiLU: y = silu(groupNorm(x)). */
export const GROUP_NORM_SILU_KERNEL = 'Dalle2jsGroupNormSilu';
/** Its backward: inputs dy, x, weight, bias, statistics; outputs dx, dWeight [C], dBias [C]. */
export const GROUP_NORM_SILU_GRAD_KERNEL = 'Dalle2jsGroupNormSiluGrad';

/**
 * GroupNorm, then a modulation per batch entry and channel, then SiLU: inputs x, weight, bias and
 * scaleShift [B, 2C] (scale, then shift); outputs y = silu(groupNorm(x) (1 + scale) + shift) and
 * the statistics. Registered for webgpu only.
 */
export const GROUP_NORM_MODULATED_SILU_KERNEL = 'Dalle2jsGroupNormModulatedSilu';
/** Its backward: inputs dy, x, weight, bias, scaleShift, statistics; outputs dx, dWeight, dBias, dScaleShift. */
export const GROUP_NORM_MODULATED_SILU_GRAD_KERNEL = 'Dalle2jsGroupNormModulatedSiluGrad';
