/**
 * softmax(scale * logits) over the last axis: input logits (float32), attribute scale (> 0); output
 * of the same shape. Registered for webgpu only, where it takes one dispatch instead of two.
 */
export const SCALED_SOFTMAX_KERNEL = 'Dalle2jsScaledSoftmax';
/** Its gradient: inputs dy and y (the forward output); output dLogits = scale y (dy - sum(dy y)). */
export const SCALED_SOFTMAX_GRAD_KERNEL = 'Dalle2jsScaledSoftmaxGrad';

export interface ScaledSoftmaxAttrs {
  scale: number;
}
