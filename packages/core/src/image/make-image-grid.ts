import type * as tf from '@tensorflow/tfjs-core';
import { assertRawImage, type RawImage } from './raw-image.js';
import { tensorToImages } from './tensor-to-image.js';

export interface ImageGridOptions {
  /** Images per row. Default: ceil(sqrt(N)); never more than N. */
  readonly columns?: number;
  /** Pixels between images and around the border, like torchvision's make_grid. Default 2. */
  readonly padding?: number;
  /** Padding byte (0..255) for every channel, or one per channel. Default 0. */
  readonly padValue?: number | readonly number[];
}

/**
 * Tile same-sized images left to right, top to bottom. A [N, H, W, C] tensor is read as values
 * in [-1, 1] (see `tensorToImage`).
 */
export async function makeImageGrid(
  images: tf.Tensor4D | readonly RawImage[],
  options: ImageGridOptions = {},
): Promise<RawImage> {
  const list = Array.isArray(images)
    ? (images as readonly RawImage[])
    : await tensorToImages(images as tf.Tensor4D);
  const first = list[0];
  if (!first) throw new Error('makeImageGrid: no images');
  list.forEach((image, n) => {
    assertRawImage(image, `makeImageGrid: image ${n}`);
    if (image.width !== first.width || image.height !== first.height || image.channels !== first.channels) {
      throw new Error(
        `makeImageGrid: image ${n} is ${image.width}x${image.height}x${image.channels}, image 0 is ${first.width}x${first.height}x${first.channels}`,
      );
    }
  });
  const { padding = 2, padValue = 0 } = options;
  const columns = Math.min(options.columns ?? Math.ceil(Math.sqrt(list.length)), list.length);
  if (!Number.isSafeInteger(columns) || columns < 1)
    throw new Error(`makeImageGrid: columns must be a positive integer, got ${options.columns}`);
  if (!Number.isSafeInteger(padding) || padding < 0)
    throw new Error(`makeImageGrid: padding must be a non-negative integer, got ${padding}`);
  const { width: w, height: h, channels } = first;
  const fill = typeof padValue === 'number' ? Array<number>(channels).fill(padValue) : [...padValue];
  if (fill.length !== channels || !fill.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
    throw new Error(
      `makeImageGrid: padValue must be a byte (0..255) or one per channel (${channels}), got ${JSON.stringify(padValue)}`,
    );
  }

  const rows = Math.ceil(list.length / columns);
  const width = columns * (w + padding) + padding;
  const height = rows * (h + padding) + padding;
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = fill[i % channels]!;
  list.forEach((image, n) => {
    const left = padding + (n % columns) * (w + padding);
    const top = padding + Math.floor(n / columns) * (h + padding);
    for (let y = 0; y < h; y++) {
      const source = image.data.subarray(y * w * channels, (y + 1) * w * channels);
      data.set(source, ((top + y) * width + left) * channels);
    }
  });
  return { width, height, channels, data };
}
