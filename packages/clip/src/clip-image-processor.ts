import { decodePng } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { bicubicMatrix, resizeBicubicUint8, type Uint8Image } from './resize-bicubic.js';

export const CLIP_IMAGE_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_IMAGE_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** Preprocessing settings; defaults are OpenAI CLIP's at 224 px. */
export interface CLIPImageProcessorConfig {
  /** The shortest side after resizing; default 224. */
  shortestEdge: number;
  /** Height and width of the centre crop; default `shortestEdge`. */
  cropHeight: number;
  cropWidth: number;
  /** Per-channel mean and std of [0, 1] pixels; default CLIP's. */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

export interface TensorPreprocessOptions {
  /** The values that stand for black and white; default [-1, 1], like core's `imageToTensor`. */
  valueRange?: readonly [number, number];
}

/**
 * OpenAI CLIP's and Hugging Face `CLIPImageProcessor`'s preprocessing: resize the shortest side to
 * `shortestEdge` with Pillow's bicubic (antialiased when downscaling; see `resize-bicubic.ts`),
 * the other side to floor(edge * long / short); centre crop (offsets rounded down, as Hugging
 * Face does); scale to [0, 1]; normalise with the mean and std. Output is NHWC float32.
 * Grey images are repeated to RGB; alpha is dropped, as `Image.convert('RGB')` does.
 */
export class CLIPImageProcessor {
  readonly config: Readonly<CLIPImageProcessorConfig>;

  constructor(config: Partial<CLIPImageProcessorConfig> = {}) {
    const shortestEdge = config.shortestEdge ?? 224;
    const resolved: CLIPImageProcessorConfig = {
      shortestEdge,
      cropHeight: config.cropHeight ?? shortestEdge,
      cropWidth: config.cropWidth ?? shortestEdge,
      mean: config.mean ?? CLIP_IMAGE_MEAN,
      std: config.std ?? CLIP_IMAGE_STD,
    };
    for (const key of ['shortestEdge', 'cropHeight', 'cropWidth'] as const) {
      const value = resolved[key];
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(`CLIPImageProcessor: ${key} must be a positive integer, got ${value}`);
      }
    }
    for (const key of ['mean', 'std'] as const) {
      const value = resolved[key];
      if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => Number.isFinite(v))) {
        throw new Error(
          `CLIPImageProcessor: ${key} must be three finite numbers, got ${JSON.stringify(value)}`,
        );
      }
    }
    if (!resolved.std.every((v) => v > 0)) {
      throw new Error(`CLIPImageProcessor: std must be positive, got ${JSON.stringify(resolved.std)}`);
    }
    this.config = resolved;
  }

  /**
   * Reads Hugging Face's `preprocessor_config.json` (`size: {shortest_edge}` or a number,
   * `crop_size: {height, width}` or a number, `image_mean`, `image_std`). Only bicubic resampling
   * (`resample: 3`) is implemented, so any other value is refused.
   */
  static fromPreprocessorConfig(json: Readonly<Record<string, unknown>>): CLIPImageProcessor {
    const size = json.size as number | { shortest_edge?: number } | undefined;
    const crop = json.crop_size as number | { height?: number; width?: number } | undefined;
    if (json.resample !== undefined && json.resample !== 3) {
      throw new Error(
        `preprocessor_config.json: resample ${String(json.resample)} is not supported; valid: 3 (bicubic)`,
      );
    }
    for (const flag of ['do_resize', 'do_center_crop', 'do_rescale', 'do_normalize'] as const) {
      if (json[flag] === false) throw new Error(`preprocessor_config.json: ${flag}: false is not supported`);
    }
    if (json.rescale_factor !== undefined && Math.abs((json.rescale_factor as number) - 1 / 255) > 1e-9) {
      throw new Error(
        `preprocessor_config.json: rescale_factor ${String(json.rescale_factor)} is not supported; valid: 1/255`,
      );
    }
    const shortestEdge = typeof size === 'number' ? size : size?.shortest_edge;
    const cropHeight = typeof crop === 'number' ? crop : crop?.height;
    const cropWidth = typeof crop === 'number' ? crop : crop?.width;
    return new CLIPImageProcessor({
      ...(shortestEdge === undefined ? {} : { shortestEdge }),
      ...(cropHeight === undefined ? {} : { cropHeight }),
      ...(cropWidth === undefined ? {} : { cropWidth }),
      ...(json.image_mean === undefined ? {} : { mean: json.image_mean as [number, number, number] }),
      ...(json.image_std === undefined ? {} : { std: json.image_std as [number, number, number] }),
    });
  }

  /** The `preprocessor_config.json` that Hugging Face's `CLIPImageProcessor` reads back. */
  toPreprocessorConfig(): Record<string, unknown> {
    const { shortestEdge, cropHeight, cropWidth, mean, std } = this.config;
    return {
      image_processor_type: 'CLIPImageProcessor',
      do_resize: true,
      size: { shortest_edge: shortestEdge },
      resample: 3,
      do_center_crop: true,
      crop_size: { height: cropHeight, width: cropWidth },
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [...mean],
      image_std: [...std],
      do_convert_rgb: true,
    };
  }

  /** The size [height, width] that the resize gives an image of `height` x `width`. */
  resizedSize(height: number, width: number): [number, number] {
    const edge = this.config.shortestEdge;
    if (width <= height) return [Math.floor((edge * height) / width), edge];
    return [edge, Math.floor((edge * width) / height)];
  }

  /** 8-bit images (channels 1 to 4) -> [B, cropHeight, cropWidth, 3]; matches Pillow's resize exactly. */
  preprocessImages(images: Uint8Image | readonly Uint8Image[]): tf.Tensor4D {
    const list = Array.isArray(images) ? (images as readonly Uint8Image[]) : [images as Uint8Image];
    if (list.length === 0) throw new Error('CLIPImageProcessor: expected at least one image');
    const { cropHeight, cropWidth } = this.config;
    const pixels = new Float32Array(list.length * cropHeight * cropWidth * 3);
    list.forEach((image, index) => {
      const rgb = toRgb8(image, index);
      const [h, w] = this.resizedSize(rgb.height, rgb.width);
      const resized = resizeBicubicUint8(rgb, w, h);
      const [top, left] = this.cropOffsets(h, w);
      const offset = index * cropHeight * cropWidth * 3;
      for (let y = 0; y < cropHeight; y++) {
        for (let x = 0; x < cropWidth; x++) {
          for (let c = 0; c < 3; c++) {
            const value = (resized.data[((top + y) * w + left + x) * 3 + c] as number) / 255;
            pixels[offset + (y * cropWidth + x) * 3 + c] =
              (value - (this.config.mean[c] as number)) / (this.config.std[c] as number);
          }
        }
      }
    });
    return tf.tensor4d(pixels, [list.length, cropHeight, cropWidth, 3]);
  }

  /** PNG files' bytes -> [B, cropHeight, cropWidth, 3]. */
  preprocessPng(png: Uint8Array | readonly Uint8Array[]): tf.Tensor4D {
    const list = png instanceof Uint8Array ? [png] : [...png];
    return this.preprocessImages(
      list.map((bytes, index) => {
        try {
          return decodePng(bytes);
        } catch (error) {
          throw new Error(
            `CLIPImageProcessor: image ${index} is not a readable PNG: ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        }
      }),
    );
  }

  /** PNG files on disk -> [B, cropHeight, cropWidth, 3]. Node only. */
  async preprocessFiles(paths: string | readonly string[]): Promise<tf.Tensor4D> {
    const { readFile } = await import('node:fs/promises');
    const list = typeof paths === 'string' ? [paths] : [...paths];
    const files = await Promise.all(list.map((path) => readFile(path)));
    try {
      return this.preprocessPng(files.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
    } catch (error) {
      throw new Error(`${list.join(', ')}: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Images as a tensor [B, H, W, C] or [H, W, C] (C = 1, 3 or 4) with values in `valueRange`
   * -> [B, cropHeight, cropWidth, 3]. The same resize in float arithmetic, as matrix products, so
   * it is differentiable; values are clamped to the range after each pass as Pillow does. It
   * differs from the 8-bit path only by Pillow's rounding to whole levels.
   */
  preprocessTensor(images: tf.Tensor, options: TensorPreprocessOptions = {}): tf.Tensor4D {
    const [low, high] = options.valueRange ?? [-1, 1];
    if (!(high > low))
      throw new Error(
        `CLIPImageProcessor: valueRange must be [low, high] with high > low, got [${low}, ${high}]`,
      );
    if (
      (images.rank !== 3 && images.rank !== 4) ||
      ![1, 3, 4].includes(images.shape[images.rank - 1] as number)
    ) {
      throw new Error(
        `CLIPImageProcessor: expected images of shape [B, H, W, C] or [H, W, C] with C = 1, 3 or 4, got [${images.shape.join(', ')}]`,
      );
    }
    const { cropHeight, cropWidth, mean, std } = this.config;
    return tf.tidy(() => {
      let x = images.rank === 3 ? tf.expandDims(images, 0) : images; // [B, H, W, C]
      const [b, h, w, c] = x.shape as [number, number, number, number];
      x = tf.clipByValue(tf.div(tf.sub(tf.cast(x, 'float32'), low), high - low), 0, 1); // [0, 1]
      if (c === 1) x = tf.tile(x, [1, 1, 1, 3]);
      if (c === 4) x = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 3]);
      const [rh, rw] = this.resizedSize(h, w);
      const [top, left] = this.cropOffsets(rh, rw);
      const rows = Array.from({ length: cropHeight }, (_, i) => top + i);
      const cols = Array.from({ length: cropWidth }, (_, i) => left + i);
      const wx = tf.tensor2d(bicubicMatrix(w, rw, cols), [cropWidth, w]); // [Wc, W]
      const wy = tf.tensor2d(bicubicMatrix(h, rh, rows), [cropHeight, h]); // [Hc, H]
      // Width first, as Pillow does: [B, H, W, 3] -> [B * H * 3, W] @ [W, Wc]
      const byWidth = tf.reshape(tf.transpose(x, [0, 1, 3, 2]), [b * h * 3, w]);
      const wide = tf.clipByValue(tf.matMul(byWidth, wx, false, true), 0, 1); // [B * H * 3, Wc]
      // Then height: [H, B * 3 * Wc] rows mixed by [Hc, H]
      const byHeight = tf.reshape(tf.transpose(tf.reshape(wide, [b, h, 3, cropWidth]), [1, 0, 2, 3]), [
        h,
        -1,
      ]);
      const tall = tf.clipByValue(tf.matMul(wy, byHeight), 0, 1); // [Hc, B * 3 * Wc]
      const out = tf.transpose(tf.reshape(tall, [cropHeight, b, 3, cropWidth]), [1, 0, 3, 2]); // [B, Hc, Wc, 3]
      return tf.div(tf.sub(out, tf.tensor1d([...mean])), tf.tensor1d([...std])) as tf.Tensor4D;
    });
  }

  /** [top, left] of the centre crop in a resized image, rounded down as Hugging Face does. */
  private cropOffsets(height: number, width: number): [number, number] {
    const { cropHeight, cropWidth } = this.config;
    if (cropHeight > height || cropWidth > width) {
      throw new Error(
        `CLIPImageProcessor: crop ${cropHeight}x${cropWidth} is larger than the resized image ${height}x${width}`,
      );
    }
    return [Math.floor((height - cropHeight) / 2), Math.floor((width - cropWidth) / 2)];
  }
}

/** Grey, grey + alpha, RGB or RGBA at 8 bits -> RGB, dropping alpha like Pillow's `convert('RGB')`. */
function toRgb8(image: Uint8Image, index: number): Uint8Image {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`CLIPImageProcessor: image ${index} has invalid size ${width}x${height}`);
  }
  if (![1, 2, 3, 4].includes(channels)) {
    throw new Error(`CLIPImageProcessor: image ${index} has ${channels} channels; expected 1, 2, 3 or 4`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * channels) {
    throw new Error(
      `CLIPImageProcessor: image ${index} needs ${width * height * channels} 8-bit values (${height}x${width}x${channels}), got ${data.length}`,
    );
  }
  if (channels === 3) return image;
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = data[p * channels + (channels <= 2 ? 0 : c)] as number;
  }
  return { width, height, channels: 3, data: rgb };
}
