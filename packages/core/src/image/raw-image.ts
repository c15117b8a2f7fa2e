/**
 * 8-bit pixels, row-major and interleaved: `data[(y * width + x) * channels + c]`.
 * Channels: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
 */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
  readonly data: Uint8Array;
}

export function assertRawImage(image: RawImage, context: string): void {
  const { width, height, channels, data } = image;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new Error(`${context}: width and height must be positive integers, got ${width}x${height}`);
  }
  if (![1, 2, 3, 4].includes(channels)) {
    throw new Error(`${context}: channels must be 1, 2, 3 or 4, got ${channels}`);
  }
  if (!(data instanceof Uint8Array)) throw new Error(`${context}: data must be a Uint8Array`);
  if (data.length !== width * height * channels) {
    throw new Error(
      `${context}: a ${width}x${height} image with ${channels} channels needs ${width * height * channels} bytes, found ${data.length}`,
    );
  }
}
