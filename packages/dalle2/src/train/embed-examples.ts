import type { CLIPModel } from '@dalle2js/clip';
import type { RawImage } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { encodePrompts } from '../pipeline/text-conditioning.js';

/** CLIP's view of caption/image pairs: what the prior and the decoders train on. The caller owns the tensors. */
export interface ExampleEmbeddings {
  /** [N, D], unit norm. */
  textEmbeds: tf.Tensor2D;
  /** [N, D], unit norm. */
  imageEmbeds: tf.Tensor2D;
  /** [N, contextLength, width], with `withEncodings`. */
  textEncodings?: tf.Tensor3D;
  /** [N, contextLength], with `withEncodings`. */
  textMask?: tf.Tensor2D;
}

/** Runs the (frozen) CLIP over every pair, `batchSize` at a time. */
export async function embedExamples(
  clip: CLIPModel,
  captions: readonly string[],
  images: readonly RawImage[],
  options: { withEncodings: boolean; batchSize?: number; onBatch?: (done: number, total: number) => void },
): Promise<ExampleEmbeddings> {
  const { withEncodings, batchSize = 64, onBatch } = options;
  const parts: { text: tf.Tensor[]; image: tf.Tensor[]; encodings: tf.Tensor[]; mask: tf.Tensor[] } = {
    text: [],
    image: [],
    encodings: [],
    mask: [],
  };
  try {
    for (let start = 0; start < captions.length; start += batchSize) {
      const end = Math.min(start + batchSize, captions.length);
      const text = encodePrompts(clip, captions.slice(start, end), { truncate: true });
      parts.text.push(text.textEmbed);
      if (withEncodings) {
        parts.encodings.push(text.textEncodings);
        parts.mask.push(text.textMask);
      } else tf.dispose([text.textEncodings, text.textMask]);
      parts.image.push(
        tf.tidy(() => clip.encodeImage(clip.imageProcessor.preprocessImages(images.slice(start, end)))),
      );
      // Let the backend finish this batch before queueing the next.
      await parts.image[parts.image.length - 1]!.data();
      onBatch?.(end, captions.length);
    }
    return {
      textEmbeds: tf.concat(parts.text, 0) as tf.Tensor2D,
      imageEmbeds: tf.concat(parts.image, 0) as tf.Tensor2D,
      ...(withEncodings
        ? {
            textEncodings: tf.concat(parts.encodings, 0) as tf.Tensor3D,
            textMask: tf.concat(parts.mask, 0) as tf.Tensor2D,
          }
        : {}),
    };
  } finally {
    tf.dispose([...parts.text, ...parts.image, ...parts.encodings, ...parts.mask]);
  }
}
