import * as tf from '@tensorflow/tfjs-core';
import {
  ATTENTION_GRAD_KERNEL,
  ATTENTION_KERNEL,
  attentionHeadSizeSupported,
} from '../backend/attention-contract.js';
import { ownKernelEnabled } from '../backend/webgpu-kernels/webgpu-kernels-switch.js';

/** Whether attention with heads of `headSize` can run through the active backend's fused kernels. */
export function fusedAttentionAvailable(headSize: number): boolean {
  return attentionHeadSizeSupported(headSize) && ownKernelEnabled(ATTENTION_KERNEL, 'attention');
}

/**
 * softmax(q k^T scale) v for q [N, T, D], k and v [N, S, D], through the backend's fused kernels
 * (registered for webgpu), with their own gradient: the T x S scores are never stored.
 */
export function fusedAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, scale: number): tf.Tensor {
  const attrs = { scale } as unknown as tf.NamedAttrMap;
  const attend = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [query, key, value, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [out, logsumexp] = tf
      .engine()
      .runKernel(ATTENTION_KERNEL, { q: query, k: key, v: value }, attrs) as tf.Tensor[];
    save([query, key, value, out!, logsumexp!]);
    return {
      value: out!,
      gradFunc: (dOut: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedQ, savedK, savedV, savedOut, savedLogsumexp] = saved;
        return tf
          .engine()
          .runKernel(
            ATTENTION_GRAD_KERNEL,
            { dOut, q: savedQ!, k: savedK!, v: savedV!, out: savedOut!, logsumexp: savedLogsumexp! },
            attrs,
          ) as tf.Tensor[];
      },
    };
  });
  return attend(q, k, v);
}
