import { checkGradients, checkModuleGradients } from '@dalle2js/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { countUNetParameters, gridImageSize, resolveUNetConfig, UNet } from '../src/index.js';
import { disposeInputs, randomInputs, randomUNet } from './helpers.js';
import { TINY } from './tiny-config.js';

// TINY has two levels (8 and 16 channels): a grid of 2 at the lowest level means 4 px inputs.
const GRID = { ...TINY, imageEmbedGrid: 2 };

describe('imageEmbedGrid: the image embedding projected onto the lowest level', () => {
  test('is validated, sets the input size and adds one Linear to the parameter count', () => {
    expect(resolveUNetConfig(TINY).imageEmbedGrid).toBeNull();
    for (const bad of [0, -2, 1.5, '2']) {
      expect(() => resolveUNetConfig({ ...TINY, imageEmbedGrid: bad as number })).toThrow(
        `UNet config: imageEmbedGrid must be a positive integer or null, got ${JSON.stringify(bad)}`,
      );
    }
    expect(gridImageSize(resolveUNetConfig(GRID))).toBe(4);
    expect(gridImageSize(resolveUNetConfig(TINY))).toBeNull();
    const unet = new UNet(GRID);
    expect(unet.numParameters()).toBe(countUNetParameters(GRID));
    expect(countUNetParameters(GRID) - countUNetParameters(TINY)).toBe(6 * (2 * 2 * 16) + 2 * 2 * 16);
    expect(unet.cond_proj.image_to_grid?.weight.shape).toEqual([6, 64]);
    unet.dispose();
  });

  test('refuses inputs of another size, naming the size it takes', () => {
    const unet = new UNet(GRID);
    const inputs = randomInputs(unet, 1, 8);
    expect(() => unet.apply(inputs.x, inputs.timesteps, inputs.cond)).toThrow(
      'UNet: with imageEmbedGrid 2 the input must be 4x4 pixels, got [1, 8, 8, 3]',
    );
    disposeInputs(inputs);
    unet.dispose();
  });

  test('starts at zero, so the output is that of the same weights without the grid; trained, it follows the embedding', async () => {
    const plain = randomUNet(TINY, 0);
    const withGrid = new UNet(GRID);
    for (const [name, { variable }] of plain.namedParameters()) {
      withGrid.namedParameters().get(name)?.variable.assign(variable);
    }
    const inputs = randomInputs(plain, 2, 4);
    const { x, timesteps, cond } = inputs;
    const before = withGrid.apply(x, timesteps, cond);
    const reference = plain.apply(x, timesteps, cond);
    expect(Array.from(await before.data())).toEqual(Array.from(await reference.data()));

    const grid = withGrid.cond_proj.image_to_grid!;
    grid.weight.assign(tf.randomNormal(grid.weight.shape, 0, 1, 'float32', 5));
    const after = withGrid.apply(x, timesteps, cond);
    const otherEmbedding = tf.neg(cond.imageEmbed);
    const flipped = withGrid.apply(x, timesteps, { imageEmbed: otherEmbedding });
    const change = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
    expect(change(after, before)).toBeGreaterThan(1e-3);
    expect(change(flipped, after)).toBeGreaterThan(1e-3);
    tf.dispose([before, reference, after, otherEmbedding, flipped]);
    disposeInputs(inputs);
    plain.dispose();
    withGrid.dispose();
  });

  test('gradients match finite differences, for the embedding and the grid projection', () => {
    const unet = randomUNet(GRID, 0, 0.2);
    const inputs = randomInputs(unet, 2, 4);
    const weights = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 9);
    const loss = (imageEmbed: tf.Tensor) =>
      tf.tidy(
        () => tf.sum(tf.mul(unet.apply(inputs.x, inputs.timesteps, { imageEmbed }), weights)) as tf.Scalar,
      );
    expect(checkGradients(([embed]) => loss(embed!), [inputs.cond.imageEmbed], { eps: 1e-2 })).toBeLessThan(
      2e-2,
    );
    const error = checkModuleGradients(unet.cond_proj.image_to_grid!, () => loss(inputs.cond.imageEmbed), {
      eps: 1e-2,
      entriesPerParameter: 4,
    });
    expect(error).toBeLessThan(2e-2);
    tf.dispose(weights);
    disposeInputs(inputs);
    unet.dispose();
  });
});
