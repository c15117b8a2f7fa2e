/** Forward: inputs x [B, H, W, C], weight [C], bias [C]; outputs y, mean [B, G], rstd [B, G]. */
export const GROUP_NORM_KERNEL = 'Dalle2jsGroupNorm';
/** Backward: inputs dy, x, weight, mean, rstd; outputs dx, dWeight [C], dBias [C]. */
export const GROUP_NORM_GRAD_KERNEL = 'Dalle2jsGroupNormGrad';

/** The forward kernel's attributes. */
export interface GroupNormAttrs {
  groups: number;
  eps: number;
}
