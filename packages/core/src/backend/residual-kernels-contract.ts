// A conv's output plus a residual in one kernel: a U-Net's ResNet blocks end in conv2 + skip.
// Registered for webgpu only; elsewhere the layer adds. (A linear layer's residual: LINEAR_KERNEL.)

/**
 * conv2d(x, filter) + bias + residual: inputs x [B, H, W, in], filter [kh, kw, in, out], bias
 * [out] and residual (the output's shape), float32; attributes those of tfjs' Conv2D (NHWC, no
 * dilation).
 */
export const CONV2D_RESIDUAL_KERNEL = 'Dalle2jsConv2dResidual';
