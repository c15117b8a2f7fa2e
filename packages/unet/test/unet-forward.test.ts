import { TorchGenerator } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { UNet, upsampleNearest } from '../src/index.js';
import { disposeInputs, maxAbsDiff, randomInputs, randomUNet } from './helpers.js';
import { TINY, TINY_FULL } from './tiny-config.js';

describe('output shapes', () => {
  // Attention only where the feature map is 16 px or less: the cpu backend is slow on long sequences.
  const lowestOnly = (levels: number) => ({
    ...TINY,
    dimMults: [...new Array<number>(levels - 1).fill(1), 2],
    selfAttention: new Array<boolean>(levels).fill(false).map((_, i) => i === levels - 1),
    crossAttention: new Array<boolean>(levels).fill(false).map((_, i) => i === levels - 1),
  });
  test.each([
    [32, 2, TINY, 3],
    [32, 2, TINY_FULL, 6],
    [64, 2, lowestOnly(3), 3],
    [256, 1, lowestOnly(5), 3],
  ])('%i px, batch %i', (size, batch, config, outChannels) => {
    const unet = randomUNet(config);
    const inputs = randomInputs(unet, batch, size);
    const out = unet.apply(inputs.x, inputs.timesteps, inputs.cond);
    expect(out.shape).toEqual([batch, size, size, outChannels]);
    expect(out.dtype).toBe('float32');
    tf.dispose(out);
    disposeInputs(inputs);
    unet.dispose();
  });

  test('a rectangular input and one timestep for the whole batch', () => {
    const unet = randomUNet(TINY);
    const generator = new TorchGenerator(3);
    const x = generator.randnTensor([3, 8, 16, 3]);
    const imageEmbed = generator.randnTensor([3, 6]);
    const out = unet.apply(x, 500, { imageEmbed });
    expect(out.shape).toEqual([3, 8, 16, 3]);
    tf.dispose([out, x, imageEmbed]);
    unet.dispose();
  });
});

describe('behaviour', () => {
  let unet: UNet;
  let inputs: ReturnType<typeof randomInputs>;
  beforeAll(() => {
    unet = randomUNet(TINY_FULL);
    inputs = randomInputs(unet, 2, 16);
  });
  afterAll(() => {
    disposeInputs(inputs);
    unet.dispose();
  });

  test('the same seed gives the same weights and outputs; another seed does not', async () => {
    const a = new UNet(TINY_FULL, { rng: new TorchGenerator(7) });
    const b = new UNet(TINY_FULL, { rng: new TorchGenerator(7) });
    const c = new UNet(TINY_FULL, { rng: new TorchGenerator(8) });
    // Zero-initialised output layers would make every output equal: jitter them the same way.
    for (const module of [a, b, c]) {
      const generator = new TorchGenerator(1);
      for (const { variable } of module.namedParameters().values()) {
        tf.tidy(() => variable.assign(tf.add(variable, tf.mul(generator.randnTensor(variable.shape), 0.01))));
      }
    }
    const [outA, outB, outC] = [a, b, c].map((m) => m.apply(inputs.x, inputs.timesteps, inputs.cond));
    expect(await outA!.data()).toEqual(await outB!.data());
    expect(await maxAbsDiff(outA!, outC!)).toBeGreaterThan(1e-3);
    tf.dispose([outA!, outB!, outC!]);
    for (const module of [a, b, c]) module.dispose();
  });

  test('new UNet starts with zero output (zero-initialised conv_out)', async () => {
    const fresh = new UNet(TINY, { rng: new TorchGenerator(0) });
    const generator = new TorchGenerator(2);
    const x = generator.randnTensor([1, 8, 8, 3]);
    const imageEmbed = generator.randnTensor([1, 6]);
    const out = fresh.apply(x, [10], { imageEmbed });
    expect(await tf.max(tf.abs(out)).data()).toEqual(new Float32Array([0]));
    tf.dispose([x, imageEmbed, out]);
    fresh.dispose();
  });

  test('guided forward with scale 1 equals the conditional output', async () => {
    const conditional = unet.apply(inputs.x, inputs.timesteps, inputs.cond);
    const guided = unet.forwardWithGuidance(inputs.x, inputs.timesteps, inputs.cond, 1);
    expect(guided.shape).toEqual(conditional.shape);
    expect(await maxAbsDiff(guided, conditional)).toBeLessThan(1e-5);
    tf.dispose([conditional, guided]);
  });

  test('guided forward is uncond + scale (cond - uncond) on the target channels, variance from cond', async () => {
    const ones = tf.ones([2]);
    const zeros = tf.zeros([2]);
    const conditional = unet.apply(inputs.x, inputs.timesteps, inputs.cond, { condKeepMask: ones });
    const unconditional = unet.apply(inputs.x, inputs.timesteps, inputs.cond, { condKeepMask: zeros });
    expect(await maxAbsDiff(conditional, unconditional)).toBeGreaterThan(1e-3);
    const guided = unet.forwardWithGuidance(inputs.x, inputs.timesteps, inputs.cond, 3.5);
    const expected = tf.tidy(() => {
      const [c, u] = [conditional, unconditional].map((t) => tf.slice(t, [0, 0, 0, 0], [-1, -1, -1, 3]));
      const target = tf.add(u!, tf.mul(tf.sub(c!, u!), 3.5));
      return tf.concat([target, tf.slice(conditional, [0, 0, 0, 3], [-1, -1, -1, 3])], 3);
    });
    expect(await maxAbsDiff(guided, expected)).toBeLessThan(1e-4);
    tf.dispose([ones, zeros, conditional, unconditional, guided, expected]);
  });

  test('an all-ones keep mask changes nothing; dropped rows match the null conditioning', async () => {
    const plain = unet.apply(inputs.x, inputs.timesteps, inputs.cond);
    const kept = unet.apply(inputs.x, inputs.timesteps, inputs.cond, {
      condKeepMask: tf.tensor1d([true, true], 'bool'),
    });
    expect(await maxAbsDiff(plain, kept)).toBe(0);

    const mixed = unet.apply(inputs.x, inputs.timesteps, inputs.cond, { condKeepMask: tf.tensor1d([1, 0]) });
    const dropped = unet.apply(inputs.x, inputs.timesteps, inputs.cond, {
      condKeepMask: tf.tensor1d([0, 0]),
    });
    const row = (t: tf.Tensor, i: number) => tf.slice(t, [i, 0, 0, 0], [1, -1, -1, -1]);
    expect(await maxAbsDiff(row(mixed, 0), row(plain, 0))).toBeLessThan(1e-6);
    expect(await maxAbsDiff(row(mixed, 1), row(dropped, 1))).toBeLessThan(1e-6);
    expect(await maxAbsDiff(row(mixed, 1), row(plain, 1))).toBeGreaterThan(1e-3);
    tf.dispose([plain, kept, mixed, dropped]);
  });

  test('condDropProb draws which rows to drop from the rng', async () => {
    const draws = new TorchGenerator(5).uniform(2);
    const prob = 0.5;
    const expectedKeep = Array.from(draws, (u) => (u < prob ? 0 : 1));
    const drawn = unet.apply(inputs.x, inputs.timesteps, inputs.cond, {
      condDropProb: prob,
      rng: new TorchGenerator(5),
    });
    const masked = unet.apply(inputs.x, inputs.timesteps, inputs.cond, {
      condKeepMask: tf.tensor1d(expectedKeep),
    });
    expect(await maxAbsDiff(drawn, masked)).toBe(0);
    const always = unet.apply(inputs.x, inputs.timesteps, inputs.cond, {
      condDropProb: 1,
      rng: new TorchGenerator(5),
    });
    const dropped = unet.apply(inputs.x, inputs.timesteps, inputs.cond, {
      condKeepMask: tf.tensor1d([0, 0]),
    });
    expect(await maxAbsDiff(always, dropped)).toBe(0);
    tf.dispose([drawn, masked, always, dropped]);
  });

  test('padded text tokens are ignored', async () => {
    const { textEncodings, textMask } = inputs.cond;
    // Row 1 pads token 2: changing it must not change row 1's output.
    const changed = tf.tidy(() =>
      tf.add(textEncodings!, tf.mul(tf.reshape(tf.oneHot(tf.tensor1d([2, 2], 'int32'), 3), [2, 3, 1]), 5)),
    );
    const before = unet.apply(inputs.x, inputs.timesteps, inputs.cond);
    const after = unet.apply(inputs.x, inputs.timesteps, {
      ...inputs.cond,
      textEncodings: changed,
      textMask,
    });
    const row = (t: tf.Tensor, i: number) => tf.slice(t, [i, 0, 0, 0], [1, -1, -1, -1]);
    expect(await maxAbsDiff(row(before, 1), row(after, 1))).toBeLessThan(1e-5);
    expect(await maxAbsDiff(row(before, 0), row(after, 0))).toBeGreaterThan(1e-4);
    tf.dispose([changed, before, after]);
  });
});

describe('upsampleNearest', () => {
  test('repeats each pixel into a factor x factor block', async () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
    const up = upsampleNearest(x, 2);
    expect(up.shape).toEqual([1, 4, 4, 2]);
    const values = (await up.array()) as number[][][][];
    expect(values[0]!.map((row) => row.map((pixel) => pixel[0]))).toEqual([
      [1, 1, 3, 3],
      [1, 1, 3, 3],
      [5, 5, 7, 7],
      [5, 5, 7, 7],
    ]);
    const three = upsampleNearest(x, 3);
    expect(three.shape).toEqual([1, 6, 6, 2]);
    expect(((await three.array()) as number[][][][])[0]![5]![2]).toEqual([5, 6]); // source pixel (1, 0)
    tf.dispose([x, up, three]);
  });

  test('its gradient sums each block', async () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const weights = tf.tensor4d(
      Array.from({ length: 16 }, (_, i) => i),
      [1, 4, 4, 1],
    );
    const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(upsampleNearest(input, 2), weights)))(x);
    // Block (0, 0) holds weights 0, 1, 4, 5, and so on.
    expect(await grad.data()).toEqual(new Float32Array([10, 18, 42, 50]));
    tf.dispose([x, weights, grad]);
  });
});
