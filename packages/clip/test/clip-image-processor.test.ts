import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng, imageToTensor, TorchGenerator } from '@dalle2js/core';
import { checkGradients, expectNoLeaks } from '@dalle2js/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  bicubicKernel,
  bicubicTaps,
  CLIP_IMAGE_MEAN,
  CLIP_IMAGE_STD,
  CLIPImageProcessor,
  resizeBicubicUint8,
  type Uint8Image,
} from '../src/index.js';

function randomImage(width: number, height: number, channels: number, seed: number): Uint8Image {
  const u = new TorchGenerator(seed).uniform(width * height * channels);
  return { width, height, channels, data: Uint8Array.from(u, (v) => Math.floor(v * 256)) };
}

function row(values: number[]): Uint8Image {
  return { width: values.length, height: 1, channels: 1, data: Uint8Array.from(values) };
}

describe('Pillow-style bicubic', () => {
  it('uses the a = -0.5 cubic kernel', () => {
    // (1.5|x| - 2.5)x^2 + 1 inside 1, -0.5(|x|^3 - 5x^2 + 8|x| - 4) inside 2.
    expect(bicubicKernel(0)).toBe(1);
    expect(bicubicKernel(0.25)).toBe(111 / 128);
    expect(bicubicKernel(-0.75)).toBe(29 / 128);
    expect(bicubicKernel(1.25)).toBe(-9 / 128);
    expect(bicubicKernel(1)).toBeCloseTo(0, 15);
    expect(bicubicKernel(2)).toBeCloseTo(0, 15);
  });

  it('widens the kernel by the scale when downscaling (hand-computed, 4 -> 2)', () => {
    // Scale 2: centres at 1 and 3, taps at (x + 0.5 - centre) / 2 = -0.25, 0.25, 0.75, 1.25.
    const taps = bicubicTaps(4, 2);
    expect(taps.map((t) => t.start)).toEqual([0, 0]);
    expectAll(taps[0]!.weights, [111 / 242, 111 / 242, 29 / 242, -9 / 242]);
    expectAll(taps[1]!.weights, [-9 / 242, 29 / 242, 111 / 242, 111 / 242]);
    // 8-bit: (10*111 + 20*111 + 30*29 - 40*9) / 242 = 15.87 -> 16; the mirror gives 34.13 -> 34.
    expect(Array.from(resizeBicubicUint8(row([10, 20, 30, 40]), 2, 1).data)).toEqual([16, 34]);
  });

  it('uses the plain kernel, cut at the border and renormalised, when upscaling (hand-computed, 2 -> 4)', () => {
    // Centres at 0.25, 0.75, 1.25, 1.75: taps at distances 0.25/1.25, 0.25/0.75, ...
    const taps = bicubicTaps(2, 4);
    expectAll(taps[0]!.weights, [111 / 102, -9 / 102]);
    expectAll(taps[1]!.weights, [111 / 140, 29 / 140]);
    expectAll(taps[2]!.weights, [29 / 140, 111 / 140]);
    expectAll(taps[3]!.weights, [-9 / 102, 111 / 102]);
    // 1.0, 31.13, 90.87, 121.0 and, with overshoot clamped, -17.6 -> 0, 41.4, 158.6, 217.6.
    expect(Array.from(resizeBicubicUint8(row([10, 112]), 4, 1).data)).toEqual([1, 31, 91, 121]);
    expect(Array.from(resizeBicubicUint8(row([0, 200]), 4, 1).data)).toEqual([0, 41, 159, 218]);
  });

  it('resizes width first, then height, and leaves an unchanged axis alone', () => {
    const image = randomImage(7, 5, 3, 1);
    const both = resizeBicubicUint8(image, 3, 9);
    const stepwise = resizeBicubicUint8(resizeBicubicUint8(image, 3, 5), 3, 9);
    expect(both.data).toEqual(stepwise.data);
    expect(resizeBicubicUint8(image, 7, 5).data).toEqual(image.data);
  });
});

describe('CLIPImageProcessor', () => {
  it('resizes the shortest side as Hugging Face does (floor of the long side)', () => {
    const p = new CLIPImageProcessor();
    expect(p.resizedSize(480, 640)).toEqual([224, 298]);
    expect(p.resizedSize(640, 480)).toEqual([298, 224]);
    expect(p.resizedSize(100, 100)).toEqual([224, 224]);
    expect(p.resizedSize(300, 1000)).toEqual([224, 746]);
  });

  it('centre-crops after resizing and normalises with the CLIP mean and std', async () => {
    const p = new CLIPImageProcessor({ shortestEdge: 2 });
    // 8 x 4 -> 4 x 2, then the crop starts at column floor((4 - 2) / 2) = 1.
    const image = randomImage(8, 4, 3, 2);
    const resized = resizeBicubicUint8(image, 4, 2);
    const out = p.preprocessImages(image);
    expect(out.shape).toEqual([1, 2, 2, 3]);
    const values = await out.data();
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 2; x++) {
        for (let c = 0; c < 3; c++) {
          const pixel = resized.data[(y * 4 + x + 1) * 3 + c]! / 255;
          expect(values[(y * 2 + x) * 3 + c]).toBeCloseTo(
            (pixel - CLIP_IMAGE_MEAN[c]!) / CLIP_IMAGE_STD[c]!,
            5,
          );
        }
      }
    }
    out.dispose();
    // A flat grey stays exactly grey through the fixed-point resize.
    const grey = p.preprocessImages({ width: 6, height: 4, channels: 1, data: new Uint8Array(24).fill(128) });
    const greyValues = await grey.data();
    for (let i = 0; i < 12; i++) {
      const c = i % 3;
      expect(greyValues[i]).toBeCloseTo((128 / 255 - CLIP_IMAGE_MEAN[c]!) / CLIP_IMAGE_STD[c]!, 5);
    }
    grey.dispose();
  });

  it('reads PNG bytes and files, dropping alpha', async () => {
    const rgba = randomImage(9, 6, 4, 3);
    const rgb: Uint8Image = { ...rgba, channels: 3, data: rgba.data.filter((_, i) => i % 4 !== 3) };
    const p = new CLIPImageProcessor({ shortestEdge: 4 });
    const fromRaw = p.preprocessImages(rgb);
    const fromPng = p.preprocessPng(encodePng(rgba as never));
    const dir = await mkdtemp(join(tmpdir(), 'clip-png-'));
    try {
      const path = join(dir, 'image.png');
      await writeFile(path, encodePng(rgba as never));
      const fromFile = await p.preprocessFiles([path, path]);
      expect(fromFile.shape).toEqual([2, 4, 4, 3]);
      const expected = Array.from(await fromRaw.data());
      expect(Array.from(await fromPng.data())).toEqual(expected);
      expect(Array.from(await fromFile.data())).toEqual([...expected, ...expected]);
      fromFile.dispose();
      await expect(p.preprocessFiles(join(dir, 'missing.png'))).rejects.toThrow('ENOENT');
    } finally {
      tf.dispose([fromRaw, fromPng]);
      await rm(dir, { recursive: true, force: true });
    }
    expect(() => p.preprocessPng(new Uint8Array([1, 2, 3]))).toThrow('image 0 is not a readable PNG');
  });

  it('preprocesses tensors in [-1, 1] like the 8-bit path, up to rounding, and differentiably', async () => {
    const p = new CLIPImageProcessor({ shortestEdge: 5, cropHeight: 5, cropWidth: 4 });
    const image = randomImage(13, 9, 3, 4);
    const exact = p.preprocessImages(image);
    const tensor = imageToTensor(image as never); // [H, W, 3] in [-1, 1]
    const fromTensor = p.preprocessTensor(tensor);
    const fromBytes = tf.tidy(() =>
      p.preprocessTensor(tf.cast(tf.tensor3d(image.data, [9, 13, 3], 'int32'), 'float32'), {
        valueRange: [0, 255],
      }),
    );
    expect(fromTensor.shape).toEqual([1, 5, 4, 3]);
    const reference = await exact.data();
    for (const result of [await fromTensor.data(), await fromBytes.data()]) {
      let worst = 0;
      for (let i = 0; i < reference.length; i++)
        worst = Math.max(worst, Math.abs(result[i]! - reference[i]!));
      // Pillow rounds to whole levels after each pass: at most about 1 level each, 1 / 255 / std ~ 0.015.
      expect(worst).toBeLessThan(0.035);
      expect(worst).toBeGreaterThan(0);
    }
    const small = tf.tidy(() => tf.mul(tf.sin(tf.reshape(tf.range(0, 6 * 7 * 3), [6, 7, 3])), 0.5));
    const weights = tf.randomNormal([1, 5, 4, 3], 0, 1, 'float32', 5);
    const error = checkGradients(
      ([x]) => tf.sum(tf.mul(p.preprocessTensor(x!), weights)) as tf.Scalar,
      [small],
      {
        tolerance: 1e-2,
      },
    );
    expect(error).toBeLessThan(1e-2);
    tf.dispose([exact, tensor, fromTensor, fromBytes, small, weights]);
  });

  it('reads and writes preprocessor_config.json', () => {
    const p = CLIPImageProcessor.fromPreprocessorConfig({
      size: { shortest_edge: 336 },
      crop_size: { height: 336, width: 320 },
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
      resample: 3,
    });
    expect(p.config).toEqual({
      shortestEdge: 336,
      cropHeight: 336,
      cropWidth: 320,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
    });
    expect(CLIPImageProcessor.fromPreprocessorConfig(p.toPreprocessorConfig()).config).toEqual(p.config);
    expect(CLIPImageProcessor.fromPreprocessorConfig({ size: 256, crop_size: 224 }).config).toMatchObject({
      shortestEdge: 256,
      cropWidth: 224,
    });
  });

  it('refuses what it cannot do, saying what it expected', () => {
    const p = new CLIPImageProcessor({ shortestEdge: 4 });
    expect(() => p.preprocessImages({ width: 2, height: 2, channels: 5, data: new Uint8Array(20) })).toThrow(
      'image 0 has 5 channels; expected 1, 2, 3 or 4',
    );
    expect(() => p.preprocessImages({ width: 2, height: 2, channels: 3, data: new Uint8Array(11) })).toThrow(
      'needs 12 8-bit values',
    );
    expect(() => p.preprocessImages([])).toThrow('at least one image');
    const bad = tf.zeros([4, 4, 2]);
    expect(() => p.preprocessTensor(bad)).toThrow('C = 1, 3 or 4, got [4, 4, 2]');
    bad.dispose();
    expect(() =>
      new CLIPImageProcessor({ shortestEdge: 4, cropHeight: 5 }).preprocessImages(randomImage(4, 4, 3, 1)),
    ).toThrow('crop 5x4 is larger than the resized image 4x4');
    expect(() => new CLIPImageProcessor({ shortestEdge: 0 })).toThrow(
      'shortestEdge must be a positive integer, got 0',
    );
    expect(() => new CLIPImageProcessor({ std: [1, 0, 1] })).toThrow('std must be positive');
    expect(() => CLIPImageProcessor.fromPreprocessorConfig({ resample: 2 })).toThrow(
      'resample 2 is not supported; valid: 3 (bicubic)',
    );
    expect(() => CLIPImageProcessor.fromPreprocessorConfig({ do_center_crop: false })).toThrow(
      'do_center_crop: false',
    );
  });

  it('leaves no tensors behind', async () => {
    const p = new CLIPImageProcessor({ shortestEdge: 4 });
    const image = randomImage(6, 5, 3, 6);
    const png = encodePng(image as never);
    const tensor = tf.zeros([2, 6, 5, 3]);
    try {
      await expectNoLeaks(() => p.preprocessImages(image));
      await expectNoLeaks(() => p.preprocessPng([png, png]));
      await expectNoLeaks(() => p.preprocessTensor(tensor));
      await expectNoLeaks(() => p.preprocessTensor(tensor, { valueRange: [0, 1] }));
    } finally {
      tensor.dispose();
    }
  });
});

function expectAll(actual: ArrayLike<number>, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i]!, 12);
}
