import type * as tf from '@tensorflow/tfjs-core';
import type { RawImage } from './raw-image.js';

/** A [H, W, C] tensor with values in [-1, 1] as an 8-bit image: clamped, then rounded. C is 1 to 4. */
export async function tensorToImage(tensor: tf.Tensor3D): Promise<RawImage> {
  const [height, width, channels] = checkShape(tensor, 3, 'tensorToImage');
  return { width, height, channels, data: toBytes(await tensor.data(), 0, width * height * channels) };
}

/** A [N, H, W, C] batch as N images (read back with one `await data()`). */
export async function tensorToImages(tensor: tf.Tensor4D): Promise<RawImage[]> {
  const [count, height, width, channels] = checkShape(tensor, 4, 'tensorToImages');
  const values = await tensor.data();
  const size = width * height * channels;
  return Array.from({ length: count }, (_, n) => ({
    width,
    height,
    channels,
    data: toBytes(values, n * size, size),
  }));
}

function checkShape(tensor: tf.Tensor, rank: 3, context: string): [number, number, RawImage['channels']];
function checkShape(
  tensor: tf.Tensor,
  rank: 4,
  context: string,
): [number, number, number, RawImage['channels']];
function checkShape(tensor: tf.Tensor, rank: number, context: string): number[] {
  const channels = tensor.shape[rank - 1];
  if (tensor.rank !== rank || channels === undefined || channels < 1 || channels > 4) {
    const layout = rank === 3 ? '[H, W, C]' : '[N, H, W, C]';
    throw new Error(
      `${context}: expected a ${layout} tensor with 1 to 4 channels, got shape [${tensor.shape.join(', ')}]`,
    );
  }
  if (tensor.dtype !== 'float32')
    throw new Error(`${context}: expected a float32 tensor, got ${tensor.dtype}`);
  return tensor.shape;
}

function toBytes(values: ArrayLike<number>, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const v = Math.round((values[offset + i]! + 1) * 127.5);
    out[i] = Math.min(255, Math.max(0, v));
  }
  return out;
}
