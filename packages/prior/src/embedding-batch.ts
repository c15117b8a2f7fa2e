import * as tf from '@tensorflow/tfjs-core';

/**
 * CLIP outputs for N (caption, image) pairs: what the prior trains on. Plain tensors, so the
 * cache and the trainer do not depend on the CLIP model that produced them.
 */
export interface EmbeddingBatch {
  /** CLIP text embeddings, [N, D]. */
  textEmbeds: tf.Tensor;
  /** CLIP image embeddings, [N, D]. */
  imageEmbeds: tf.Tensor;
  /** CLIP text encodings (per-token hidden states), [N, L, W]. */
  textEncodings?: tf.Tensor;
  /** [N, L], 1 = real token, 0 = padding. Only with `textEncodings`; default all ones. */
  textMask?: tf.Tensor;
}

const EMBEDDING_BATCH_KEYS = ['textEmbeds', 'imageEmbeds', 'textEncodings', 'textMask'] as const;

/** Sizes of a checked batch. `textEncodingLength` and `textEncodingDim` are 0 without encodings. */
export interface EmbeddingBatchShape {
  count: number;
  dim: number;
  textEncodingLength: number;
  textEncodingDim: number;
}

/** Checks that the parts of `batch` agree; errors name the part, the expected and the actual shape. */
export function checkEmbeddingBatch(batch: EmbeddingBatch, context = 'EmbeddingBatch'): EmbeddingBatchShape {
  const { textEmbeds, imageEmbeds, textEncodings, textMask } = batch;
  const shape = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;
  if (textEmbeds.rank !== 2)
    throw new Error(`${context}: expected textEmbeds [N, D], got ${shape(textEmbeds)}`);
  const [count, dim] = textEmbeds.shape as [number, number];
  if (imageEmbeds.rank !== 2 || imageEmbeds.shape[0] !== count || imageEmbeds.shape[1] !== dim) {
    throw new Error(
      `${context}: expected imageEmbeds [${count}, ${dim}] like textEmbeds, got ${shape(imageEmbeds)}`,
    );
  }
  if (textEncodings === undefined) {
    if (textMask !== undefined) throw new Error(`${context}: textMask given without textEncodings`);
    return { count, dim, textEncodingLength: 0, textEncodingDim: 0 };
  }
  if (textEncodings.rank !== 3 || textEncodings.shape[0] !== count) {
    throw new Error(`${context}: expected textEncodings [${count}, L, W], got ${shape(textEncodings)}`);
  }
  const [, textEncodingLength, textEncodingDim] = textEncodings.shape as [number, number, number];
  if (
    textMask !== undefined &&
    (textMask.rank !== 2 || textMask.shape[0] !== count || textMask.shape[1] !== textEncodingLength)
  ) {
    throw new Error(
      `${context}: expected textMask [${count}, ${textEncodingLength}], got ${shape(textMask)}`,
    );
  }
  return { count, dim, textEncodingLength, textEncodingDim };
}

/** Rows `indices` of every part of `batch`, as new tensors the caller owns. */
export function gatherEmbeddingBatch(batch: EmbeddingBatch, indices: tf.Tensor1D): EmbeddingBatch {
  const parts = tf.tidy(() => {
    const out: Record<string, tf.Tensor> = {};
    for (const key of EMBEDDING_BATCH_KEYS) {
      const part = batch[key];
      if (part !== undefined) out[key] = tf.gather(part, indices);
    }
    return out;
  });
  return parts as unknown as EmbeddingBatch;
}

/** Disposes every tensor of a batch this code created. */
export function disposeEmbeddingBatch(batch: EmbeddingBatch): void {
  for (const key of EMBEDDING_BATCH_KEYS) batch[key]?.dispose();
}
