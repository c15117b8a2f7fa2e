import { TorchGenerator } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { UNet, type UNetCondition, upsampleNearest } from '../src/index.js';
import { TINY, TINY_FULL } from './tiny-config.js';

describe('clear errors for wrong inputs', () => {
  let unet: UNet;
  let full: UNet;
  let x: tf.Tensor;
  let imageEmbed: tf.Tensor;
  const created: tf.Tensor[] = [];
  const tensor = (shape: number[]) => {
    const t = tf.zeros(shape);
    created.push(t);
    return t;
  };
  beforeAll(() => {
    unet = new UNet(TINY, { rng: new TorchGenerator(0) });
    full = new UNet(TINY_FULL, { rng: new TorchGenerator(0) });
    x = tensor([2, 8, 8, 3]);
    imageEmbed = tensor([2, 6]);
  });
  afterAll(() => {
    tf.dispose(created);
    unet.dispose();
    full.dispose();
  });

  test.each<[string, () => [tf.Tensor, number[] | tf.Tensor | number, UNetCondition], RegExp]>([
    [
      'x of rank 3',
      () => [tensor([8, 8, 3]), [1, 2], { imageEmbed }],
      /expected x of shape \[B, H, W, 3\].*got \[8, 8, 3\]/,
    ],
    [
      'x with 4 channels',
      () => [tensor([2, 8, 8, 4]), [1, 2], { imageEmbed }],
      /expected x of shape \[B, H, W, 3\]/,
    ],
    [
      'a size that does not halve',
      () => [tensor([2, 7, 8, 3]), [1, 2], { imageEmbed }],
      /H and W multiples of 2, got \[2, 7, 8, 3\]/,
    ],
    [
      'too few timesteps',
      () => [x, [1], { imageEmbed }],
      /expected timesteps of shape \[2\] \(or one number\), got \[1\]/,
    ],
    ['a timestep matrix', () => [x, tensor([2, 1]), { imageEmbed }], /expected timesteps of shape \[2\]/],
    [
      'a wrong embedding size',
      () => [x, [1, 2], { imageEmbed: tensor([2, 512]) }],
      /expected imageEmbed of shape \[2, 6\], got \[2, 512\]/,
    ],
    [
      'a wrong embedding batch',
      () => [x, [1, 2], { imageEmbed: tensor([3, 6]) }],
      /expected imageEmbed of shape \[2, 6\]/,
    ],
    [
      'no embedding',
      () => [x, [1, 2], {} as UNetCondition],
      /expected imageEmbed of shape \[2, 6\], got none/,
    ],
    [
      'text without textEmbedDim',
      () => [x, [1, 2], { imageEmbed, textEncodings: tensor([2, 3, 5]) }],
      /textEmbedDim null/,
    ],
    [
      'a lowres image without lowresCond',
      () => [x, [1, 2], { imageEmbed, lowresImage: tensor([2, 4, 4, 3]) }],
      /lowresCond false/,
    ],
  ])('%s', (_, make, message) => {
    const [input, timesteps, cond] = make();
    expect(() => unet.apply(input, timesteps, cond)).toThrow(message);
    expect(() => unet.forwardWithGuidance(input, timesteps, cond, 2)).toThrow(message);
  });

  test.each<[string, () => UNetCondition, RegExp]>([
    ['missing lowres image', () => ({ imageEmbed }), /lowresCond, so cond\.lowresImage is required/],
    [
      'a lowres image of a non-integer factor',
      () => ({ imageEmbed, lowresImage: tensor([2, 3, 3, 3]) }),
      /expected lowresImage of shape \[2, H \/ f, W \/ f, 3\] for an integer f, got \[2, 3, 3, 3\]/,
    ],
    [
      'text of the wrong width',
      () => ({ imageEmbed, lowresImage: tensor([2, 4, 4, 3]), textEncodings: tensor([2, 3, 4]) }),
      /expected textEncodings of shape \[2, S <= 6, 5\], got \[2, 3, 4\]/,
    ],
    [
      'text longer than maxTextLen',
      () => ({ imageEmbed, lowresImage: tensor([2, 4, 4, 3]), textEncodings: tensor([2, 7, 5]) }),
      /S <= 6/,
    ],
    [
      'a text mask of the wrong length',
      () => ({
        imageEmbed,
        lowresImage: tensor([2, 4, 4, 3]),
        textEncodings: tensor([2, 3, 5]),
        textMask: tensor([2, 4]),
      }),
      /expected textMask of shape \[2, 3\], got \[2, 4\]/,
    ],
    [
      'a mask without text',
      () => ({ imageEmbed, lowresImage: tensor([2, 4, 4, 3]), textMask: tensor([2, 3]) }),
      /textMask without textEncodings/,
    ],
  ])('%s (full config)', (_, make, message) => {
    expect(() => full.apply(x, [1, 2], make())).toThrow(message);
  });

  test('bad dropout options', () => {
    const cond = { imageEmbed };
    expect(() => unet.apply(x, [1, 2], cond, { condDropProb: 1.5 })).toThrow(
      'condDropProb must be in [0, 1], got 1.5',
    );
    expect(() => unet.apply(x, [1, 2], cond, { condDropProb: 0.1 })).toThrow('condDropProb needs an rng');
    expect(() => unet.apply(x, [1, 2], cond, { condKeepMask: tensor([3]) })).toThrow(
      'expected condKeepMask of shape [2], got [3]',
    );
    expect(() =>
      unet.apply(x, [1, 2], cond, {
        condKeepMask: tensor([2]),
        condDropProb: 0.5,
        rng: new TorchGenerator(0),
      }),
    ).toThrow('either condKeepMask or condDropProb');
    expect(() => unet.forwardWithGuidance(x, [1, 2], cond, Number.NaN)).toThrow(
      'scale must be a finite number',
    );
  });

  test('upsampleNearest checks its arguments', () => {
    expect(() => upsampleNearest(tensor([2, 2, 3]), 2)).toThrow('expected [B, H, W, C], got shape [2, 2, 3]');
    expect(() => upsampleNearest(x, 1.5)).toThrow('factor must be a positive integer, got 1.5');
  });
});
