import { TorchGenerator } from '@dalle2js/core';
import { checkGradients, checkModuleGradients } from '@dalle2js/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { UNet, UNetCondition } from '../src/index.js';
import { disposeInputs, randomInputs, randomUNet } from './helpers.js';
import { TINY_FULL } from './tiny-config.js';

// Every block kind (resnets with and without shortcut, self- and cross-attention with a text mask,
// downsample, nearest upsample, lowres conditioning, learned variance) and the null conditioning
// of the second row, against central finite differences on the cpu backend.
describe('gradients of a tiny UNet match finite differences', () => {
  let unet: UNet;
  let inputs: ReturnType<typeof randomInputs>;
  let weights: tf.Tensor;
  let keep: tf.Tensor;
  beforeAll(() => {
    unet = randomUNet(TINY_FULL, 0, 0.2);
    inputs = randomInputs(unet, 2, 8);
    weights = new TorchGenerator(9).randnTensor([2, 8, 8, 6]);
    keep = tf.tensor1d([1, 0]);
  });
  afterAll(() => {
    disposeInputs(inputs);
    tf.dispose([weights, keep]);
    unet.dispose();
  });

  const loss = (x: tf.Tensor, cond: UNetCondition) =>
    tf.tidy(
      () =>
        tf.sum(tf.mul(unet.apply(x, inputs.timesteps, cond, { condKeepMask: keep }), weights)) as tf.Scalar,
    );

  test('with respect to the inputs and the conditioning', () => {
    const { x, cond } = inputs;
    const error = checkGradients(
      ([xIn, imageEmbed, textEncodings, lowresImage]) =>
        loss(xIn!, { imageEmbed: imageEmbed!, textEncodings, textMask: cond.textMask, lowresImage }),
      [x, cond.imageEmbed, cond.textEncodings!, cond.lowresImage!],
      { eps: 1e-2, maxEntries: 24 },
    );
    expect(error).toBeLessThan(2e-2);
  });

  test.each([
    ['cond_proj', (m: UNet) => m.cond_proj],
    ['time_embedding', (m: UNet) => m.time_embedding],
    ['conv_in', (m: UNet) => m.conv_in],
    ['mid_block', (m: UNet) => m.mid_block],
    ['down_blocks.1 (shortcut, attention)', (m: UNet) => m.down_blocks.at(1)],
    ['up_blocks.1 (skips, attention, upsampler)', (m: UNet) => m.up_blocks.at(1)],
    ['conv_out', (m: UNet) => m.conv_out],
  ])('with respect to the parameters of %s', (_, pick) => {
    const error = checkModuleGradients(pick(unet), () => loss(inputs.x, inputs.cond), {
      eps: 1e-2,
      entriesPerParameter: 2,
    });
    expect(error).toBeLessThan(2e-2);
  });
});
