import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import {
  imagesToTensor,
  imageToTensor,
  type RawImage,
  tensorToImage,
  tensorToImages,
} from '../src/image/index.js';

const image = (
  width: number,
  height: number,
  channels: RawImage['channels'],
  values: number[],
): RawImage => ({
  width,
  height,
  channels,
  data: new Uint8Array(values),
});

describe('imageToTensor', () => {
  test('maps 0..255 to [-1, 1] as [H, W, 3] float32', async () => {
    const t = imageToTensor(image(2, 1, 3, [0, 255, 51, 127, 128, 204]));
    expect(t.shape).toEqual([1, 2, 3]);
    expect(t.dtype).toBe('float32');
    expect(Array.from(await t.data())).toEqual(
      Array.from(new Float32Array([-1, 1, -0.6, 127 / 127.5 - 1, 128 / 127.5 - 1, 0.6])),
    );
    t.dispose();
  });

  test('drops alpha and repeats grey', async () => {
    const rgba = imageToTensor(image(1, 1, 4, [255, 0, 255, 7]));
    expect(Array.from(await rgba.data())).toEqual([1, -1, 1]);
    const grey = imageToTensor(image(2, 1, 1, [0, 255]));
    expect(Array.from(await grey.data())).toEqual([-1, -1, -1, 1, 1, 1]);
    const greyAlpha = imageToTensor(image(1, 1, 2, [255, 0]));
    expect(Array.from(await greyAlpha.data())).toEqual([1, 1, 1]);
    tf.dispose([rgba, grey, greyAlpha]);
  });

  test('creates exactly one tensor and validates its input', () => {
    const before = tf.memory().numTensors;
    const t = imageToTensor(image(1, 1, 3, [1, 2, 3]));
    expect(tf.memory().numTensors).toBe(before + 1);
    t.dispose();
    expect(() => imageToTensor(image(2, 2, 3, [1, 2, 3]))).toThrow(
      /imageToTensor: a 2x2 image with 3 channels needs 12 bytes, found 3/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('tensorToImage', () => {
  test('clamps, rounds half up, and maps NaN to 0', async () => {
    const t = tf.tensor3d(
      [
        [
          [-1, 1, 0],
          [-2, 2, Number.NaN],
          [0.6, -0.6, 1 / 255],
        ],
      ],
      [1, 3, 3],
    );
    const before = tf.memory().numTensors;
    const out = await tensorToImage(t);
    expect(tf.memory().numTensors).toBe(before);
    expect(out).toEqual(image(3, 1, 3, [0, 255, 128, 0, 255, 0, 204, 51, 128]));
    t.dispose();
  });

  test('keeps 1 and 4 channels; refuses other shapes and dtypes', async () => {
    const grey = tf.tensor3d([[[-1], [1]]]);
    expect(await tensorToImage(grey)).toEqual(image(2, 1, 1, [0, 255]));
    const rgba = tf.zeros([1, 1, 4]) as tf.Tensor3D;
    expect((await tensorToImage(rgba)).channels).toBe(4);
    const five = tf.zeros([1, 1, 5]) as tf.Tensor3D;
    await expect(tensorToImage(five)).rejects.toThrow(
      /expected a \[H, W, C\] tensor with 1 to 4 channels, got shape \[1, 1, 5\]/,
    );
    const ints = tf.zeros([1, 1, 3], 'int32') as tf.Tensor3D;
    await expect(tensorToImage(ints)).rejects.toThrow(/expected a float32 tensor, got int32/);
    tf.dispose([grey, rgba, five, ints]);
  });

  test('image -> tensor -> image is exact for every byte value', async () => {
    const values = Array.from({ length: 256 * 3 }, (_, i) => i % 256);
    const original = image(256, 1, 3, values);
    const t = imageToTensor(original);
    expect(await tensorToImage(t)).toEqual(original);
    t.dispose();
  });
});

describe('batches', () => {
  test('imagesToTensor stacks [N, H, W, 3]; tensorToImages splits it back', async () => {
    const images = [
      image(2, 1, 3, [0, 10, 20, 30, 40, 50]),
      image(2, 1, 1, [60, 255]),
      image(2, 1, 4, [1, 2, 3, 4, 5, 6, 7, 8]),
    ];
    const before = tf.memory().numTensors;
    const batch = imagesToTensor(images);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(batch.shape).toEqual([3, 1, 2, 3]);
    const back = await tensorToImages(batch);
    expect(back).toEqual([
      images[0],
      image(2, 1, 3, [60, 60, 60, 255, 255, 255]),
      image(2, 1, 3, [1, 2, 3, 5, 6, 7]),
    ]);
    batch.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('imagesToTensor refuses mixed sizes and empty lists', () => {
    expect(() => imagesToTensor([image(1, 1, 3, [0, 0, 0]), image(1, 2, 3, [0, 0, 0, 0, 0, 0])])).toThrow(
      /imagesToTensor: image 1 is 1x2, image 0 is 1x1/,
    );
    expect(() => imagesToTensor([])).toThrow(/no images/);
  });
});
