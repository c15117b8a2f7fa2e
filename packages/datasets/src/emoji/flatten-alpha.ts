import type { RGBImage } from '../shapes/render-shape.js';

/** A decoded 8-bit image with 1 to 4 channels (grey, grey + alpha, RGB, RGBA), as core's `decodePng` gives. */
export interface ChannelImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array;
}

/** RGB over `background` (default white): alpha blended, grey repeated. */
export function flattenAlpha(
  image: ChannelImage,
  background: readonly [number, number, number] = [255, 255, 255],
): RGBImage {
  const { width, height, channels, data } = image;
  if (![1, 2, 3, 4].includes(channels) || data.length !== width * height * channels) {
    throw new Error(
      `flattenAlpha: expected ${width}x${height} pixels of 1 to 4 channels, got ${data.length} bytes and ${channels} channels`,
    );
  }
  const out = new Uint8Array(width * height * 3);
  const grey = channels <= 2;
  const hasAlpha = channels === 2 || channels === 4;
  for (let p = 0; p < width * height; p++) {
    const alpha = hasAlpha ? data[p * channels + channels - 1]! / 255 : 1;
    for (let c = 0; c < 3; c++) {
      const value = data[p * channels + (grey ? 0 : c)]!;
      out[p * 3 + c] = Math.round(value * alpha + background[c]! * (1 - alpha));
    }
  }
  return { width, height, data: out };
}
