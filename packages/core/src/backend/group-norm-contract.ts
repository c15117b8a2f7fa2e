/** Forward: inputs x [B, H, W, C], weight [C], bias [C]; outputs y, mean [B, G], rstd [B, G]. */
export const GROUP_NORM_KERNEL = 'Dalle2jsGroupNorm';
/** Backward: inputs dy, x, weight, mean, rstd; outputs dx, dWeight [C], dBias [C]. */
export const GROUP_NORM_GRAD_KERNEL = 'Dalle2jsGroupNormGrad';

/** The forward kernel's attributes. */
export interface GroupNormAttrs {
  groups: number;
  eps: number;
}

/** The same as GROUP_NORM_KERNEL followed by SiLU: y = silu(groupNorm(x)). */
export const GROUP_NORM_SILU_KERNEL = 'Dalle2jsGroupNormSilu';
/** Its backward: inputs dy, x, weight, bias, mean, rstd; outputs dx, dWeight [C], dBias [C]. */
export const GROUP_NORM_SILU_GRAD_KERNEL = 'Dalle2jsGroupNormSiluGrad';
