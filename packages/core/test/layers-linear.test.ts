import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { Linear } from '../src/layers/index.js';
import { manualSeed, type Rng, TorchGenerator } from '../src/random/index.js';
import { checkGradients, checkModuleGradients, expectNoLeaks } from '../src/testing/index.js';

const gen = new TorchGenerator(0);
const randn = (shape: number[]) => gen.randnTensor(shape);

// u_k = k / n, so each weight tells where in PyTorch's draw order it came from.
const ramp: Rng = {
  uniform: (n) => Float32Array.from({ length: n }, (_, k) => k / n),
  normal: (n) => Float32Array.from({ length: n }, (_, k) => k),
};

describe('Linear', () => {
  test('registers PyTorch names with our [in, out] layout', () => {
    const linear = new Linear(4, 3, { rng: gen });
    const params = linear.namedParameters();
    expect([...params.keys()]).toEqual(['weight', 'bias']);
    expect(params.get('weight')!.variable.shape).toEqual([4, 3]);
    expect(params.get('weight')!.layout).toBe('linear');
    expect(params.get('bias')!.variable.shape).toEqual([3]);
    expect(linear.numParameters()).toBe(15);
    const noBias = new Linear(4, 3, { bias: false, rng: gen });
    expect([...noBias.namedParameters().keys()]).toEqual(['weight']);
    linear.dispose();
    noBias.dispose();
  });

  test('initialises like PyTorch: draws in [out, in] order, weight then bias, U(-1/sqrt(in), 1/sqrt(in))', () => {
    const linear = new Linear(3, 2, { rng: ramp });
    const bound = 1 / Math.sqrt(3);
    const w = linear.weight.arraySync() as number[][]; // [in, out]
    for (let i = 0; i < 3; i++) {
      for (let o = 0; o < 2; o++) expect(w[i]![o]).toBeCloseTo(bound * (2 * ((o * 3 + i) / 6) - 1), 6);
    }
    const b = Array.from(linear.bias!.dataSync());
    expect(b[0]).toBeCloseTo(-bound, 6);
    expect(b[1]).toBeCloseTo(0, 6);
    linear.dispose();

    const big = new Linear(16, 8, { rng: new TorchGenerator(1) });
    const values = Array.from(big.weight.dataSync());
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...values)).toBeGreaterThan(0.2);
    expect(Math.min(...values)).toBeLessThan(-0.2);
    big.dispose();
  });

  test('is deterministic: the global generator after manualSeed equals an explicit TorchGenerator', () => {
    manualSeed(42);
    const a = new Linear(5, 4);
    const b = new Linear(5, 4, { rng: new TorchGenerator(42) });
    const c = new Linear(5, 4, { rng: new TorchGenerator(43) });
    expect(Array.from(a.weight.dataSync())).toEqual(Array.from(b.weight.dataSync()));
    expect(Array.from(a.bias!.dataSync())).toEqual(Array.from(b.bias!.dataSync()));
    expect(Array.from(a.weight.dataSync())).not.toEqual(Array.from(c.weight.dataSync()));
    for (const m of [a, b, c]) m.dispose();
  });

  test('computes x W + b on any leading shape', () => {
    const linear = new Linear(3, 2, { rng: gen });
    const x = randn([2, 2, 3]);
    const y = linear.apply(x);
    expect(y.shape).toEqual([2, 2, 2]);
    const xs = x.dataSync();
    const w = linear.weight.dataSync();
    const b = linear.bias!.dataSync();
    const out = y.dataSync();
    for (let r = 0; r < 4; r++) {
      for (let o = 0; o < 2; o++) {
        let sum = b[o]!;
        for (let i = 0; i < 3; i++) sum += xs[r * 3 + i]! * w[i * 2 + o]!;
        expect(out[r * 2 + o]).toBeCloseTo(sum, 5);
      }
    }
    tf.dispose([x, y]);
    linear.dispose();
  });

  test('gradients match finite differences for the input and the parameters', () => {
    const linear = new Linear(3, 4, { rng: gen });
    const x = randn([2, 3]);
    const r = randn([2, 4]);
    const loss = (input: tf.Tensor) => tf.sum(tf.mul(linear.apply(input), r)) as tf.Scalar;
    expect(checkGradients(([input]) => loss(input!), [x])).toBeLessThan(1e-2);
    expect(checkModuleGradients(linear, () => loss(x))).toBeLessThan(1e-2);
    tf.dispose([x, r]);
    linear.dispose();
  });

  test('leaks no tensors, in apply or over its lifetime', async () => {
    const x = randn([2, 3]);
    const linear = new Linear(3, 2, { rng: gen });
    await expectNoLeaks(() => linear.apply(x));
    linear.dispose();
    await expectNoLeaks(() => new Linear(3, 2, { rng: gen }).dispose());
    x.dispose();
  });

  test('adds a residual of the output shape, and names a wrong one', async () => {
    const linear = new Linear(3, 2, { rng: gen });
    const x = randn([2, 4, 3]);
    const residual = randn([2, 4, 2]);
    const plain = tf.add(linear.apply(x), residual);
    const fused = linear.apply(x, { residual });
    expect(Array.from(await fused.data())).toEqual(Array.from(await plain.data()));
    expect(() => linear.apply(x, { residual: tf.zeros([8, 2]) })).toThrow(
      "Linear: expected residual of the output's shape [2, 4, 2], got [8, 2]",
    );
    tf.dispose([x, residual, plain, fused]);
    linear.dispose();
  });

  test('names the expected and actual shapes on a wrong input', () => {
    const linear = new Linear(3, 2, { rng: gen });
    const x = tf.zeros([2, 5]);
    expect(() => linear.apply(x)).toThrow('Linear: expected input with last dimension 3, got shape [2, 5]');
    expect(() => new Linear(0, 2)).toThrow(/inFeatures must be a positive integer, got 0/);
    x.dispose();
    linear.dispose();
  });
});
