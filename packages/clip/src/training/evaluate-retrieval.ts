import type { ShapeSpec } from '@dalle2js/datasets';
import * as tf from '@tensorflow/tfjs-core';
import type { CLIPModel } from '../clip-model.js';
import { captionAttributes, captionMatchesSpec } from './caption-attributes.js';
import type { CLIPTrainingExample } from './clip-trainer.js';
import { type RetrievalAccuracy, retrievalAccuracy } from './retrieval-accuracy.js';

/** An evaluation pair whose image is described by a synthetic-shapes spec. */
export interface ShapesRetrievalExample extends CLIPTrainingExample {
  spec: ShapeSpec;
}

export interface EvaluateRetrievalOptions {
  /** Texts or images per forward pass; default 256. */
  batchSize?: number;
  /**
   * Which examples are queries (their caption for text-to-image, their image for image-to-text);
   * default all. Every example's image and caption are candidates either way.
   */
  isQuery?: (example: ShapesRetrievalExample, index: number) => boolean;
}

/**
 * Top-1 retrieval over a set of (image, caption) pairs. Text to image: for each caption, the image
 * of the set most similar to it, counted right when that image's spec has every attribute the
 * caption names (colour and shape, and size, position and background where it names them; see
 * {@link captionAttributes}), so any red circle answers "red circle". Image to text: for each
 * image, the most similar caption of the set, right when the image has every attribute that
 * caption names. Chance levels come with the scores.
 */
export async function evaluateRetrieval(
  model: CLIPModel,
  examples: readonly ShapesRetrievalExample[],
  options: EvaluateRetrievalOptions = {},
): Promise<RetrievalAccuracy> {
  const { batchSize = 256, isQuery = () => true } = options;
  if (!Array.isArray(examples) || examples.length === 0)
    throw new Error('evaluateRetrieval: expected a non-empty array of examples');
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`evaluateRetrieval: batchSize must be a positive integer, got ${batchSize}`);
  }
  const named = examples.map((example) => captionAttributes(example.caption));
  const textEmbeds: tf.Tensor2D[] = [];
  const imageEmbeds: tf.Tensor2D[] = [];
  let similarity: Float32Array;
  try {
    for (let start = 0; start < examples.length; start += batchSize) {
      const chunk = examples.slice(start, start + batchSize);
      textEmbeds.push(model.encodeText(chunk.map((example) => example.caption)));
      const pixels = model.imageProcessor.preprocessImages(
        chunk.map(({ image }) => ({
          width: image.width,
          height: image.height,
          channels: image.channels ?? 3,
          data: image.data,
        })),
      );
      try {
        imageEmbeds.push(model.encodeImage(pixels));
      } finally {
        pixels.dispose();
      }
    }
    const scores = tf.tidy(() => tf.matMul(tf.concat(textEmbeds, 0), tf.concat(imageEmbeds, 0), false, true)); // [N, N]
    try {
      similarity = (await scores.data()) as Float32Array;
    } finally {
      scores.dispose();
    }
  } finally {
    tf.dispose([...textEmbeds, ...imageEmbeds]);
  }
  const queries = examples.map((example, index) => isQuery(example, index));
  return retrievalAccuracy(
    similarity,
    [examples.length, examples.length],
    (text, image) => captionMatchesSpec(named[text]!, examples[image]!.spec),
    { isTextQuery: (text) => queries[text]!, isImageQuery: (image) => queries[image]! },
  );
}
