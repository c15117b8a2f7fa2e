/**
 * Scaled dot-product attention without masks. Inputs q [N, T, D], k [N, S, D], v [N, S, D] (N =
 * batch x heads); attrs { scale }; outputs out [N, T, D] = softmax(q k^T scale) v and, for the
 * backward pass, logsumexp [N, T] of each row of q k^T scale.
 */
export const ATTENTION_KERNEL = 'Dalle2jsAttention';
/** Backward: inputs dOut, q, k, v, out, logsumexp; attrs { scale }; outputs dq, dk, dv. */
export const ATTENTION_GRAD_KERNEL = 'Dalle2jsAttentionGrad';

export interface AttentionAttrs {
  scale: number;
}

/** The largest head size the kernels take (the webgpu programs stage two tiles in 16 KiB). */
export const MAX_ATTENTION_HEAD_SIZE = 128;

/** Whether the kernels take heads of `headSize`: a multiple of 4 (they read vec4s), at most the maximum. */
export function attentionHeadSizeSupported(headSize: number): boolean {
  return headSize % 4 === 0 && headSize <= MAX_ATTENTION_HEAD_SIZE;
}
