import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { Conv2d } from '../src/layers/index.js';
import { type Rng, TorchGenerator } from '../src/random/index.js';
import { checkGradients, checkModuleGradients, expectNoLeaks } from '../src/testing/index.js';

const gen = new TorchGenerator(0);
const randn = (shape: number[]) => gen.randnTensor(shape);

/** Plain-loop NHWC convolution with HWIO weights and zero padding (before, after) on each spatial axis. */
function conv2dRef(
  conv: Conv2d,
  x: tf.Tensor,
  padBefore: number,
  padAfter: number,
): { shape: number[]; data: number[] } {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const k = conv.kernelSize;
  const s = conv.stride;
  const o = conv.outChannels;
  const xs = x.dataSync();
  const ws = conv.weight.dataSync();
  const bs = conv.bias?.dataSync();
  const ho = Math.floor((h + padBefore + padAfter - k) / s) + 1;
  const wo = Math.floor((w + padBefore + padAfter - k) / s) + 1;
  const data: number[] = [];
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let oc = 0; oc < o; oc++) {
          let sum = bs?.[oc] ?? 0;
          for (let di = 0; di < k; di++)
            for (let dj = 0; dj < k; dj++) {
              const y = i * s + di - padBefore;
              const z = j * s + dj - padBefore;
              if (y < 0 || y >= h || z < 0 || z >= w) continue;
              for (let ic = 0; ic < c; ic++) {
                sum += xs[((b * h + y) * w + z) * c + ic]! * ws[((di * k + dj) * c + ic) * o + oc]!;
              }
            }
          data.push(sum);
        }
  return { shape: [n, ho, wo, o], data };
}

function expectMatches(conv: Conv2d, x: tf.Tensor, padBefore: number, padAfter: number): void {
  const y = conv.apply(x);
  const ref = conv2dRef(conv, x, padBefore, padAfter);
  expect(y.shape).toEqual(ref.shape);
  const out = y.dataSync();
  expect(Array.from(out)).toEqual(ref.data.map((v) => expect.closeTo(v, 5)));
  y.dispose();
}

describe('Conv2d', () => {
  test('registers PyTorch names with an HWIO weight', () => {
    const conv = new Conv2d(3, 5, 3, { rng: gen });
    const params = conv.namedParameters();
    expect([...params.keys()]).toEqual(['weight', 'bias']);
    expect(params.get('weight')!.variable.shape).toEqual([3, 3, 3, 5]);
    expect(params.get('weight')!.layout).toBe('conv2d');
    expect(params.get('bias')!.variable.shape).toEqual([5]);
    const noBias = new Conv2d(3, 5, 1, { bias: false, rng: gen });
    expect([...noBias.namedParameters().keys()]).toEqual(['weight']);
    conv.dispose();
    noBias.dispose();
  });

  test('initialises like PyTorch: draws in OIHW order, bound 1/sqrt(in * k * k)', () => {
    const ramp: Rng = {
      uniform: (n) => Float32Array.from({ length: n }, (_, i) => i / n),
      normal: () => new Float32Array(0),
    };
    const conv = new Conv2d(2, 3, 2, { rng: ramp });
    const bound = 1 / Math.sqrt(2 * 2 * 2);
    const w = conv.weight.arraySync() as number[][][][]; // [kh, kw, in, out]
    for (let oc = 0; oc < 3; oc++)
      for (let ic = 0; ic < 2; ic++)
        for (let y = 0; y < 2; y++)
          for (let z = 0; z < 2; z++) {
            const k = ((oc * 2 + ic) * 2 + y) * 2 + z;
            expect(w[y]![z]![ic]![oc]).toBeCloseTo(bound * (2 * (k / 24) - 1), 6);
          }
    expect(Array.from(conv.bias!.dataSync()).map((v) => v / bound)).toEqual([
      expect.closeTo(-1, 6),
      expect.closeTo(-1 / 3, 6),
      expect.closeTo(1 / 3, 6),
    ]);
    conv.dispose();
  });

  test('matches a plain-loop convolution: zero padding, stride, same and valid', () => {
    const x = randn([2, 5, 5, 3]);
    const cases: [ConstructorParameters<typeof Conv2d>[3], number, number, number][] = [
      [{ padding: 0 }, 3, 0, 0],
      [{ padding: 1 }, 3, 1, 1],
      [{ padding: 1, stride: 2 }, 3, 1, 1],
      [{ padding: 2, stride: 2 }, 4, 2, 2],
      [{ padding: 'same' }, 3, 1, 1],
      [{ padding: 'same' }, 2, 0, 1], // PyTorch puts the odd pixel after
      [{ padding: 'valid', stride: 2 }, 1, 0, 0],
      [{ padding: 1, bias: false }, 3, 1, 1],
    ];
    for (const [options, k, before, after] of cases) {
      const conv = new Conv2d(3, 2, k, { ...options, rng: gen });
      expectMatches(conv, x, before, after);
      conv.dispose();
    }
    x.dispose();
  });

  test('gradients match finite differences for the input and the parameters', () => {
    const conv = new Conv2d(2, 3, 3, { padding: 1, stride: 2, rng: gen });
    const x = randn([1, 4, 4, 2]);
    const r = randn([1, 2, 2, 3]);
    const loss = (input: tf.Tensor) => tf.sum(tf.mul(conv.apply(input), r)) as tf.Scalar;
    expect(checkGradients(([input]) => loss(input!), [x])).toBeLessThan(1e-2);
    expect(checkModuleGradients(conv, () => loss(x))).toBeLessThan(1e-2);
    tf.dispose([x, r]);
    conv.dispose();
  });

  test('is deterministic under a seeded generator and leaks nothing', async () => {
    const a = new Conv2d(2, 3, 3, { rng: new TorchGenerator(5) });
    const b = new Conv2d(2, 3, 3, { rng: new TorchGenerator(5) });
    expect(Array.from(a.weight.dataSync())).toEqual(Array.from(b.weight.dataSync()));
    const x = randn([1, 4, 4, 2]);
    await expectNoLeaks(() => a.apply(x));
    const padded = new Conv2d(2, 3, 3, { padding: 1, rng: gen });
    await expectNoLeaks(() => padded.apply(x));
    for (const m of [a, b, padded]) m.dispose();
    await expectNoLeaks(() => new Conv2d(2, 3, 3, { rng: gen }).dispose());
    x.dispose();
  });

  test('adds a residual of the output shape, and names a wrong one', async () => {
    const conv = new Conv2d(3, 4, 3, { stride: 2, padding: 1, rng: gen });
    const x = gen.randnTensor([2, 7, 7, 3]);
    const residual = gen.randnTensor([2, 4, 4, 4]);
    const plain = tf.add(conv.apply(x), residual);
    const fused = conv.apply(x, { residual });
    expect(Array.from(await fused.data())).toEqual(Array.from(await plain.data()));
    expect(() => conv.apply(x, { residual: tf.zeros([2, 7, 7, 4]) })).toThrow(
      "Conv2d: expected residual of the output's shape [2, 4, 4, 4], got [2, 7, 7, 4]",
    );
    tf.dispose([x, residual, plain, fused]);
    conv.dispose();
  });

  test('names the expected and actual shapes on a wrong input, and rejects bad options', () => {
    const conv = new Conv2d(3, 2, 3, { rng: gen });
    const wrongChannels = tf.zeros([1, 4, 4, 4]);
    const wrongRank = tf.zeros([4, 4, 3]);
    expect(() => conv.apply(wrongChannels)).toThrow(
      'Conv2d: expected input with channels 3, got shape [1, 4, 4, 4]',
    );
    expect(() => conv.apply(wrongRank)).toThrow(
      'Conv2d: expected input of shape [B, H, W, 3], got shape [4, 4, 3]',
    );
    expect(() => new Conv2d(3, 2, 3, { padding: 'same', stride: 2 })).toThrow(/'same' needs stride 1/);
    expect(() => new Conv2d(3, 2, 3, { padding: -1 })).toThrow(/padding must be/);
    tf.dispose([wrongChannels, wrongRank]);
    conv.dispose();
  });
});
