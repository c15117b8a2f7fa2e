import type { CLIPModel } from '@dalle2js/clip';
import type { RawImage } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';

/** How many images a CLIP matched to their own prompt. */
export interface RetrievalPrecision {
  images: number;
  /** Images whose own prompt was the most similar candidate. */
  retrieved: number;
  /** retrieved / images, precision@1 (NaN for no images). */
  precision: number;
}

/**
 * Top-1 prompt retrieval under a CLIP, such as an evaluation CLIP trained apart from the
 * pipeline's: the candidate prompts are embedded once, and `retrieve(images)` gives, for each
 * image, the index of the candidate with the highest cosine similarity. Call `dispose()` when done.
 */
export class CLIPRetrieval {
  readonly prompts: readonly string[];
  private readonly clip: CLIPModel;
  private textEmbeds: tf.Tensor2D | undefined; // [T, P]

  constructor(clip: CLIPModel, prompts: readonly string[]) {
    if (!Array.isArray(prompts) || prompts.length === 0) {
      throw new Error('CLIPRetrieval: expected a non-empty array of candidate prompts');
    }
    if (clip.tokenizer === undefined) {
      throw new Error(
        'CLIPRetrieval: the CLIP has no tokenizer (vocab.json + merges.txt), so it cannot embed prompts',
      );
    }
    this.clip = clip;
    this.prompts = [...prompts];
    this.textEmbeds = clip.encodeText(this.prompts);
  }

  /** Picking a candidate at random: 1 / candidates. */
  get chance(): number {
    return 1 / this.prompts.length;
  }

  /**
   * For each 8-bit image, the index of the most similar candidate prompt; ties go to the lower
   * index. Square images of any size are resized to the CLIP's input with its own preprocessing
   * (Pillow's bicubic, as in its training); other shapes are refused, since the centre crop would
   * cut off part of the picture.
   */
  async retrieve(images: readonly RawImage[], batchSize = 256): Promise<number[]> {
    const textEmbeds = this.textEmbeds;
    if (textEmbeds === undefined) throw new Error('CLIPRetrieval: used after dispose()');
    images.forEach((image, i) => {
      if (image.width !== image.height) {
        throw new Error(
          `CLIPRetrieval: image ${i} is ${image.width}x${image.height}; only square images are compared`,
        );
      }
    });
    const count = this.prompts.length;
    const best: number[] = [];
    for (let start = 0; start < images.length; start += batchSize) {
      const pixels = this.clip.imageProcessor.preprocessImages(images.slice(start, start + batchSize)); // [B, S, S, 3]
      let similarity: tf.Tensor2D;
      try {
        similarity = tf.tidy(() => tf.matMul(this.clip.encodeImage(pixels), textEmbeds, false, true)); // [B, T]
      } finally {
        pixels.dispose();
      }
      let values: Float32Array;
      try {
        values = (await similarity.data()) as Float32Array;
      } finally {
        similarity.dispose();
      }
      for (let row = 0; row * count < values.length; row++) {
        let top = 0;
        for (let t = 1; t < count; t++) {
          if ((values[row * count + t] as number) > (values[row * count + top] as number)) top = t;
        }
        best.push(top);
      }
    }
    return best;
  }

  dispose(): void {
    this.textEmbeds?.dispose();
    this.textEmbeds = undefined;
  }
}

/** Precision@1: the share of images whose retrieved candidate `best[i]` is their own, `targets[i]`. */
export function retrievalPrecision(best: readonly number[], targets: readonly number[]): RetrievalPrecision {
  if (best.length !== targets.length) {
    throw new Error(`retrievalPrecision: ${best.length} retrieved indices for ${targets.length} targets`);
  }
  const retrieved = best.filter((index, i) => index === targets[i]).length;
  return {
    images: best.length,
    retrieved,
    precision: best.length === 0 ? Number.NaN : retrieved / best.length,
  };
}
