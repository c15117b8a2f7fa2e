import { decodePng, type RawImage } from '@dalle2js/core';
import {
  flattenAlpha,
  loadEmojiDataset,
  loadImageFolder,
  makeShapesDataset,
  type RGBImage,
} from '@dalle2js/datasets';
import * as tf from '@tensorflow/tfjs-core';
import type { DataConfig } from './train-config.js';

/** Caption/image pairs, every image square RGB of the size asked for. */
export interface TrainingExamples {
  captions: string[];
  images: RawImage[];
}

/** Loads the pairs that `data` describes, at `imageSize` pixels (centre-cropped and resized if needed). Node only. */
export async function loadTrainingExamples(data: DataConfig, imageSize: number): Promise<TrainingExamples> {
  const { readFile } = await import('node:fs/promises');
  const limit = data.limit ?? Number.POSITIVE_INFINITY;
  if (data.source === 'shapes') {
    const examples = makeShapesDataset({
      count: Math.min(data.count, limit),
      imageSize,
      seed: data.seed,
      split: data.split,
    });
    return {
      captions: examples.map((e) => e.caption),
      images: examples.map((e) => ({ ...e.image, channels: 3 })),
    };
  }
  const files: { file: string; caption: string }[] =
    data.source === 'emoji'
      ? (
          await loadEmojiDataset({
            ...(data.path === null ? {} : { imagesDir: data.path }),
            skinTones: data.skinTones,
          })
        ).examples
      : await loadImageFolder(data.path!);
  const captions: string[] = [];
  const images: RawImage[] = [];
  for (const { file, caption } of files.slice(0, limit)) {
    let decoded: RawImage;
    try {
      decoded = decodePng(await readFile(file));
    } catch (error) {
      throw new Error(`${file} is not a readable PNG: ${(error as Error).message}`);
    }
    captions.push(caption);
    images.push(await resizeSquare(flattenAlpha(decoded), imageSize));
  }
  return { captions, images };
}

/** Centre crop to a square, then a bilinear resize to `size` x `size`. */
export async function resizeSquare(image: RGBImage, size: number): Promise<RawImage> {
  const { width, height, data } = image;
  if (width === size && height === size) return { width, height, channels: 3, data };
  const side = Math.min(width, height);
  const resized = tf.tidy(() => {
    const pixels = tf.tensor3d(data, [height, width, 3], 'int32'); // [H, W, 3]
    const top = Math.floor((height - side) / 2);
    const left = Math.floor((width - side) / 2);
    const square = tf.slice(pixels, [top, left, 0], [side, side, 3]); // [side, side, 3]
    const out = tf.image.resizeBilinear(tf.cast(square, 'float32') as tf.Tensor3D, [size, size], false, true);
    return tf.clipByValue(tf.round(out), 0, 255); // [size, size, 3]
  });
  try {
    return { width: size, height: size, channels: 3, data: Uint8Array.from(await resized.data()) };
  } finally {
    resized.dispose();
  }
}

/** `count` distinct row indices of `n`, drawn by a partial Fisher-Yates shuffle from `uniforms`. */
export function drawRows(n: number, uniforms: Float32Array): Int32Array {
  const count = Math.min(uniforms.length, n);
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.min(n - i - 1, Math.floor(uniforms[i]! * (n - i)));
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  return rows.slice(0, count);
}
