import * as tf from '@tensorflow/tfjs-core';
import { assertRawImage, type RawImage } from './raw-image.js';

/** An image as float32 RGB in [-1, 1] (0 -> -1, 255 -> 1): alpha dropped, grey repeated. [H, W, 3] */
export function imageToTensor(image: RawImage): tf.Tensor3D {
  assertRawImage(image, 'imageToTensor');
  const values = new Float32Array(image.width * image.height * 3);
  writeRgb(image, values, 0);
  return tf.tensor3d(values, [image.height, image.width, 3], 'float32');
}

/** Same-sized images as one batch, like `imageToTensor` for each. [N, H, W, 3] */
export function imagesToTensor(images: readonly RawImage[]): tf.Tensor4D {
  const first = images[0];
  if (!first) throw new Error('imagesToTensor: no images');
  const size = first.width * first.height * 3;
  const values = new Float32Array(images.length * size);
  images.forEach((image, n) => {
    assertRawImage(image, `imagesToTensor: image ${n}`);
    if (image.width !== first.width || image.height !== first.height) {
      throw new Error(
        `imagesToTensor: image ${n} is ${image.width}x${image.height}, image 0 is ${first.width}x${first.height}`,
      );
    }
    writeRgb(image, values, n * size);
  });
  return tf.tensor4d(values, [images.length, first.height, first.width, 3], 'float32');
}

function writeRgb({ data, channels }: RawImage, out: Float32Array, offset: number): void {
  const pixels = data.length / channels;
  const colour = channels >= 3;
  for (let p = 0, i = 0; p < pixels; p++, i += channels) {
    const o = offset + p * 3;
    out[o] = data[i]! / 127.5 - 1;
    out[o + 1] = data[colour ? i + 1 : i]! / 127.5 - 1;
    out[o + 2] = data[colour ? i + 2 : i]! / 127.5 - 1;
  }
}
