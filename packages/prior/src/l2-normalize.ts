import * as tf from '@tensorflow/tfjs-core';

/** x / max(|x|, 1e-12) along the last axis, like `torch.nn.functional.normalize`. */
export function l2Normalize(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', -1, true), 1e-12)));
}

/** Row-wise cosine similarity: [N, D], [N, D] -> [N]. */
export function cosineSimilarity(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sum(tf.mul(l2Normalize(a), l2Normalize(b)), -1));
}
