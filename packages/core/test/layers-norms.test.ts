import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { GroupNorm, LayerNorm, silu } from '../src/layers/index.js';
import { TorchGenerator } from '../src/random/index.js';
import { checkGradients, checkModuleGradients, expectNoLeaks } from '../src/testing/index.js';

const gen = new TorchGenerator(0);
const randn = (shape: number[]) => gen.randnTensor(shape);

/** Normalises each group of `xs` (given as lists of flat indices) with biased variance. */
function normalizeGroups(xs: ArrayLike<number>, groups: number[][], eps: number): number[] {
  const out = new Array<number>(xs.length).fill(Number.NaN);
  for (const group of groups) {
    const mean = group.reduce((s, i) => s + xs[i]!, 0) / group.length;
    const variance = group.reduce((s, i) => s + (xs[i]! - mean) ** 2, 0) / group.length;
    for (const i of group) out[i] = (xs[i]! - mean) / Math.sqrt(variance + eps);
  }
  return out;
}

function randomizeAffine(module: LayerNorm | GroupNorm, size: number): void {
  module.weight.assign(tf.tensor1d(gen.randn([size])));
  module.bias.assign(tf.tensor1d(gen.randn([size])));
}

describe('LayerNorm', () => {
  test('starts as weight 1, bias 0 under PyTorch names', () => {
    const norm = new LayerNorm(4);
    expect([...norm.namedParameters().keys()]).toEqual(['weight', 'bias']);
    expect(Array.from(norm.weight.dataSync())).toEqual([1, 1, 1, 1]);
    expect(Array.from(norm.bias.dataSync())).toEqual([0, 0, 0, 0]);
    expect(norm.eps).toBe(1e-5);
    norm.dispose();
  });

  test('matches a plain-loop reference over the last axis', () => {
    const norm = new LayerNorm(5, { eps: 1e-3 });
    randomizeAffine(norm, 5);
    const x = randn([2, 3, 5]);
    const y = norm.apply(x);
    expect(y.shape).toEqual([2, 3, 5]);
    const groups = Array.from({ length: 6 }, (_, r) => Array.from({ length: 5 }, (_, c) => r * 5 + c));
    const normalized = normalizeGroups(x.dataSync(), groups, 1e-3);
    const w = norm.weight.dataSync();
    const b = norm.bias.dataSync();
    const out = y.dataSync();
    expect(Array.from(out)).toEqual(normalized.map((v, i) => expect.closeTo(v * w[i % 5]! + b[i % 5]!, 5)));
    tf.dispose([x, y]);
    norm.dispose();
  });

  test('gradients match finite differences for the input and the parameters', () => {
    const norm = new LayerNorm(4);
    randomizeAffine(norm, 4);
    const x = randn([3, 4]);
    const r = randn([3, 4]);
    const loss = (input: tf.Tensor) => tf.sum(tf.mul(norm.apply(input), r)) as tf.Scalar;
    expect(checkGradients(([input]) => loss(input!), [x])).toBeLessThan(1e-2);
    expect(checkModuleGradients(norm, () => loss(x))).toBeLessThan(1e-2);
    tf.dispose([x, r]);
    norm.dispose();
  });

  test('leaks nothing and names wrong shapes', async () => {
    const norm = new LayerNorm(4);
    const x = randn([2, 4]);
    await expectNoLeaks(() => norm.apply(x));
    const wrong = tf.zeros([2, 3]);
    expect(() => norm.apply(wrong)).toThrow(
      'LayerNorm: expected input with last dimension 4, got shape [2, 3]',
    );
    tf.dispose([x, wrong]);
    norm.dispose();
  });
});

describe('GroupNorm', () => {
  test('a modulation: silu(norm(x) (1 + scale) + shift) per batch entry and channel, its shape checked', () => {
    const [n, c] = [2, 4];
    const norm = new GroupNorm(2, c);
    randomizeAffine(norm, c);
    const x = randn([n, 3, 3, c]);
    const scaleShift = randn([n, 2 * c]);
    const y = norm.apply(x, { activation: 'silu', scaleShift });
    const plain = norm.apply(x).dataSync();
    const ss = scaleShift.dataSync();
    const expected = Array.from(plain, (v, i) => {
      const [b, ch] = [Math.floor(i / (9 * c)), i % c];
      const z = v * (1 + ss[b * 2 * c + ch]!) + ss[b * 2 * c + c + ch]!;
      return expect.closeTo(z / (1 + Math.exp(-z)), 5);
    });
    expect(Array.from(y.dataSync())).toEqual(expected);
    expect(() => norm.apply(x, { scaleShift: randn([n, c]) })).toThrow(
      'GroupNorm: expected scaleShift of shape [2, 8], got [2, 4]',
    );
    tf.dispose([x, y, scaleShift]);
    norm.dispose();
  });

  test('starts as weight 1, bias 0 and checks its sizes', () => {
    const norm = new GroupNorm(2, 6);
    expect([...norm.namedParameters().keys()]).toEqual(['weight', 'bias']);
    expect(Array.from(norm.weight.dataSync())).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Array.from(norm.bias.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => new GroupNorm(4, 6)).toThrow('GroupNorm: numChannels 6 is not divisible by numGroups 4');
    norm.dispose();
  });

  test('matches a plain-loop reference on NHWC input (groups of consecutive channels)', () => {
    const [n, h, w, c, g] = [2, 3, 2, 6, 3];
    const norm = new GroupNorm(g, c, { eps: 1e-4 });
    randomizeAffine(norm, c);
    const x = randn([n, h, w, c]);
    const y = norm.apply(x);
    expect(y.shape).toEqual([n, h, w, c]);
    const groups: number[][] = [];
    for (let b = 0; b < n; b++)
      for (let gi = 0; gi < g; gi++) {
        const group: number[] = [];
        for (let p = 0; p < h * w; p++)
          for (let ci = gi * (c / g); ci < (gi + 1) * (c / g); ci++) group.push((b * h * w + p) * c + ci);
        groups.push(group);
      }
    const normalized = normalizeGroups(x.dataSync(), groups, 1e-4);
    const wt = norm.weight.dataSync();
    const bs = norm.bias.dataSync();
    const out = y.dataSync();
    expect(Array.from(out)).toEqual(normalized.map((v, i) => expect.closeTo(v * wt[i % c]! + bs[i % c]!, 5)));
    tf.dispose([x, y]);
    norm.dispose();
  });

  test('apply with activation silu is silu of the norm; another activation is refused by name', () => {
    const norm = new GroupNorm(2, 4);
    randomizeAffine(norm, 4);
    const x = randn([2, 3, 3, 4]);
    const fused = norm.apply(x, { activation: 'silu' });
    const separate = silu(norm.apply(x));
    expect(Array.from(fused.dataSync())).toEqual(
      Array.from(separate.dataSync()).map((v) => expect.closeTo(v, 6)),
    );
    expect(() => norm.apply(x, { activation: 'relu' as 'silu' })).toThrow(
      'GroupNorm: unknown activation "relu"; valid: silu',
    );
    tf.dispose([x, fused, separate]);
    norm.dispose();
  });

  test('gradients match finite differences for the input and the parameters', () => {
    const norm = new GroupNorm(2, 4);
    randomizeAffine(norm, 4);
    const x = randn([1, 2, 2, 4]);
    const r = randn([1, 2, 2, 4]);
    const loss = (input: tf.Tensor) => tf.sum(tf.mul(norm.apply(input), r)) as tf.Scalar;
    expect(checkGradients(([input]) => loss(input!), [x])).toBeLessThan(1e-2);
    expect(checkModuleGradients(norm, () => loss(x))).toBeLessThan(1e-2);
    tf.dispose([x, r]);
    norm.dispose();
  });

  test('its written-out gradient equals autodiff of the plain formula', () => {
    const [shape, groups, eps] = [[2, 5, 3, 8], 4, 1e-5];
    const norm = new GroupNorm(groups, 8, { eps });
    randomizeAffine(norm, 8);
    const x = randn(shape);
    const r = randn(shape);
    const plain = (input: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor) => {
      const grouped = tf.reshape(input, [2, 5, 3, groups, 2]);
      const centered = tf.sub(grouped, tf.mean(grouped, [1, 2, 4], true));
      const variance = tf.mean(tf.square(centered), [1, 2, 4], true);
      const normalized = tf.reshape(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), input.shape);
      return tf.add(tf.mul(normalized, weight), bias);
    };
    const expected = tf.grads((input, weight, bias) => tf.sum(tf.mul(plain(input!, weight!, bias!), r)))([
      x,
      norm.weight,
      norm.bias,
    ]);
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.mul(norm.apply(x), r)) as tf.Scalar,
      [norm.weight, norm.bias],
    );
    const [dx] = tf.grads((input) => tf.sum(tf.mul(norm.apply(input!), r)))([x]);
    const maxError = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
    expect(maxError(dx!, expected[0]!)).toBeLessThan(1e-5);
    expect(maxError(grads[norm.weight.name]!, expected[1]!)).toBeLessThan(1e-4);
    expect(maxError(grads[norm.bias.name]!, expected[2]!)).toBeLessThan(1e-4);
    tf.dispose([x, r, value, dx!, ...expected, ...Object.values(grads)]);
    norm.dispose();
  });

  test('leaks nothing and names wrong shapes', async () => {
    const norm = new GroupNorm(2, 4);
    const x = randn([1, 2, 2, 4]);
    const scaleShift = randn([1, 8]);
    await expectNoLeaks(() => norm.apply(x));
    // With SiLU and a modulation after the norm, whose intermediates must not outlive the call.
    await expectNoLeaks(() => norm.apply(x, { activation: 'silu' }));
    await expectNoLeaks(() => norm.apply(x, { activation: 'silu', scaleShift }));
    await expectNoLeaks(() => norm.apply(x, { scaleShift }));
    const wrongChannels = tf.zeros([1, 2, 2, 6]);
    const wrongRank = tf.zeros([2, 4]);
    expect(() => norm.apply(wrongChannels)).toThrow(
      'GroupNorm: expected input with channels 4, got shape [1, 2, 2, 6]',
    );
    expect(() => norm.apply(wrongRank)).toThrow(
      'GroupNorm: expected input of shape [B, H, W, 4], got shape [2, 4]',
    );
    tf.dispose([x, scaleShift, wrongChannels, wrongRank]);
    norm.dispose();
  });
});
