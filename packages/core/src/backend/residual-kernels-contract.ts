// A layer's output plus a residual in one kernel: a U-Net's ResNet blocks end in conv2 + skip, its
// attention blocks in out_proj + tokens. Registered for webgpu only; elsewhere the layers add.

/**
 * conv2d(x, filter) + bias + residual: inputs x [B, H, W, in], filter [kh, kw, in, out], bias
 * [out] and residual (the output's shape), float32; attributes those of tfjs' Conv2D (NHWC, no
 * dilation).
 */
export const CONV2D_RESIDUAL_KERNEL = 'Dalle2jsConv2dResidual';

/** a b + bias + residual: inputs a [rows, in], b [in, out], bias [out], residual [rows, out], float32. */
export const LINEAR_RESIDUAL_KERNEL = 'Dalle2jsLinearResidual';
