import * as tf from '@tensorflow/tfjs-core';
import type { DiffusionPrior, PriorSampleOptions } from './diffusion-prior.js';
import { checkEmbeddingBatch, type EmbeddingBatch } from './embedding-batch.js';
import { cosineSimilarity, l2Normalize } from './l2-normalize.js';

export interface EvaluatePriorOptions
  extends Omit<PriorSampleOptions, 'textEncodings' | 'textMask' | 'onProgress' | 'signal'> {
  /** Image embeddings of the training set [N, D]: their mean direction is the second baseline. */
  trainImageEmbeds: tf.Tensor;
  /** Rows sampled at once. Default 256. */
  batchSize?: number;
}

/** Mean cosine similarities to the true image embeddings of the held-out pairs. */
export interface PriorEvaluation {
  /** The prior's sampled image embedding. */
  prior: number;
  /** Baseline: the text embedding itself used as the image embedding. */
  textEmbedding: number;
  /** Baseline: the mean training image embedding, whatever the text. */
  meanImageEmbedding: number;
  /** Held-out pairs evaluated. */
  count: number;
}

/**
 * Samples an image embedding for each held-out text and compares it with the true image
 * embedding, beside two baselines from the same data (the DALL-E 2 paper's sanity check that the
 * prior beats using the text embedding directly).
 */
export async function evaluatePrior(
  prior: DiffusionPrior,
  heldOut: EmbeddingBatch,
  options: EvaluatePriorOptions,
): Promise<PriorEvaluation> {
  const { trainImageEmbeds, batchSize = 256, ...sampleOptions } = options;
  const { count, dim } = checkEmbeddingBatch(heldOut, 'evaluatePrior');
  if (trainImageEmbeds.rank !== 2 || trainImageEmbeds.shape[1] !== dim || trainImageEmbeds.shape[0] === 0) {
    throw new Error(
      `evaluatePrior: expected trainImageEmbeds of shape [N, ${dim}], got [${trainImageEmbeds.shape.join(', ')}]`,
    );
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`evaluatePrior: batchSize must be a positive integer, got ${batchSize}`);
  }
  let priorTotal = 0;
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const rows = (t: tf.Tensor | undefined) => (t === undefined ? undefined : tf.slice(t, start, size));
    const text = rows(heldOut.textEmbeds)!;
    const image = rows(heldOut.imageEmbeds)!;
    const textEncodings = rows(heldOut.textEncodings);
    const textMask = rows(heldOut.textMask);
    let sampled: tf.Tensor | undefined;
    try {
      sampled = await prior.sample(text, { ...sampleOptions, textEncodings, textMask });
      const similarity = tf.tidy(() => tf.sum(cosineSimilarity(sampled!, image)));
      priorTotal += (await similarity.data())[0] ?? Number.NaN;
      similarity.dispose();
    } finally {
      tf.dispose([text, image, textEncodings, textMask, sampled].filter((t) => t !== undefined));
    }
  }
  const [textEmbedding, meanImageEmbedding] = tf.tidy(() => {
    const mean = tf.mean(l2Normalize(trainImageEmbeds), 0, true); // [1, D]
    return [
      tf.mean(cosineSimilarity(heldOut.textEmbeds, heldOut.imageEmbeds)),
      tf.mean(cosineSimilarity(tf.broadcastTo(mean, [count, dim]), heldOut.imageEmbeds)),
    ];
  }) as [tf.Tensor, tf.Tensor];
  try {
    return {
      prior: priorTotal / count,
      textEmbedding: (await textEmbedding.data())[0] ?? Number.NaN,
      meanImageEmbedding: (await meanImageEmbedding.data())[0] ?? Number.NaN,
      count,
    };
  } finally {
    tf.dispose([textEmbedding, meanImageEmbedding]);
  }
}
