import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { type Linear, MultiheadAttention } from '../src/layers/index.js';
import { TorchGenerator } from '../src/random/index.js';
import { checkGradients, checkModuleGradients, expectNoLeaks } from '../src/testing/index.js';

const gen = new TorchGenerator(0);
const randn = (shape: number[]) => gen.randnTensor(shape);

type Matrix = number[][];

function linearRef(layer: Linear, rows: Matrix): Matrix {
  const w = layer.weight.arraySync() as Matrix; // [in, out]
  const b = layer.bias?.dataSync();
  return rows.map((row) =>
    Array.from({ length: layer.outFeatures }, (_, o) =>
      row.reduce((s, v, i) => s + v * w[i]![o]!, b?.[o] ?? 0),
    ),
  );
}

/**
 * Plain attention: masked keys are left out of the softmax; a row with every key masked averages
 * all values uniformly (what a finite mask bias gives).
 */
function attentionRef(
  mha: MultiheadAttention,
  x: tf.Tensor,
  options: { context?: tf.Tensor; causal?: boolean; mask?: Matrix } = {},
): Matrix[] {
  const xs = x.arraySync() as Matrix[];
  const cs = (options.context ?? x).arraySync() as Matrix[];
  const { numHeads: h, headDim: d } = mha;
  return xs.map((rows, b) => {
    const q = linearRef(mha.q_proj, rows);
    const k = linearRef(mha.k_proj, cs[b]!);
    const v = linearRef(mha.v_proj, cs[b]!);
    const merged = q.map((qi, i) => {
      const out: number[] = [];
      for (let head = 0; head < h; head++) {
        const slice = (row: number[]) => row.slice(head * d, (head + 1) * d);
        const kept = k.map(
          (_, j) => !(options.causal && j > i) && (options.mask === undefined || options.mask[b]![j] !== 0),
        );
        const anyKept = kept.some(Boolean);
        const scores = k.map(
          (kj) => slice(qi).reduce((s, qv, n) => s + qv * slice(kj)[n]!, 0) / Math.sqrt(d),
        );
        const max = Math.max(...scores.filter((_, j) => kept[j] || !anyKept));
        const weights = scores.map((s, j) => (kept[j] || !anyKept ? Math.exp(anyKept ? s - max : 0) : 0));
        const total = weights.reduce((a, c) => a + c, 0);
        for (let n = 0; n < d; n++)
          out.push(weights.reduce((s, p, j) => s + (p / total) * slice(v[j]!)[n]!, 0));
      }
      return out;
    });
    return linearRef(mha.out_proj, merged);
  });
}

function expectClose(actual: tf.Tensor, expected: Matrix[], digits = 4): void {
  const rows = actual.arraySync() as Matrix[];
  expect(rows).toEqual(expected.map((m) => m.map((r) => r.map((v) => expect.closeTo(v, digits)))));
}

describe('MultiheadAttention', () => {
  test('uses Hugging Face CLIP projection names', () => {
    const mha = new MultiheadAttention(8, 2, { rng: gen });
    expect([...mha.namedParameters().keys()]).toEqual([
      'q_proj.weight',
      'q_proj.bias',
      'k_proj.weight',
      'k_proj.bias',
      'v_proj.weight',
      'v_proj.bias',
      'out_proj.weight',
      'out_proj.bias',
    ]);
    expect(mha.numParameters()).toBe(4 * (64 + 8));
    const cross = new MultiheadAttention(8, 2, { kvDim: 6, bias: false, rng: gen });
    expect([...cross.namedParameters().keys()]).toEqual([
      'q_proj.weight',
      'k_proj.weight',
      'v_proj.weight',
      'out_proj.weight',
    ]);
    expect(cross.k_proj.weight.shape).toEqual([6, 8]);
    expect(() => new MultiheadAttention(8, 3)).toThrow(
      'MultiheadAttention: dim 8 is not divisible by numHeads 3',
    );
    mha.dispose();
    cross.dispose();
  });

  test('self-attention, causal and key padding masks match a plain implementation', () => {
    const mha = new MultiheadAttention(8, 2, { rng: gen });
    const x = randn([2, 4, 8]);
    const mask = [
      [1, 1, 0, 1],
      [1, 0, 0, 0],
    ];
    const maskTensor = tf.tensor2d(mask, [2, 4], 'int32');
    const cases = [
      [{}, {}],
      [{ causal: true }, { causal: true }],
      [{ keyPaddingMask: maskTensor }, { mask }],
      [
        { causal: true, keyPaddingMask: maskTensor },
        { causal: true, mask },
      ],
    ] as const;
    for (const [inputs, reference] of cases) {
      const y = mha.apply(x, inputs);
      expect(y.shape).toEqual([2, 4, 8]);
      expectClose(y, attentionRef(mha, x, reference));
      y.dispose();
    }
    tf.dispose([x, maskTensor]);
    mha.dispose();
  });

  test('cross-attention with another width and length, with a padding mask', () => {
    const mha = new MultiheadAttention(4, 2, { kvDim: 6, rng: gen });
    const x = randn([2, 3, 4]);
    const context = randn([2, 5, 6]);
    const mask = [
      [1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1],
    ];
    const maskTensor = tf.tensor2d(mask);
    const y = mha.apply(x, { context, keyPaddingMask: maskTensor });
    expect(y.shape).toEqual([2, 3, 4]);
    expectClose(y, attentionRef(mha, x, { context, mask }));
    tf.dispose([x, context, maskTensor, y]);
    mha.dispose();
  });

  test('a fully masked row stays finite (uniform average of the values)', () => {
    const mha = new MultiheadAttention(4, 1, { rng: gen });
    const x = randn([1, 3, 4]);
    const maskTensor = tf.zeros([1, 3]);
    const y = mha.apply(x, { keyPaddingMask: maskTensor });
    expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
    expectClose(y, attentionRef(mha, x, { mask: [[0, 0, 0]] }));
    tf.dispose([x, maskTensor, y]);
    mha.dispose();
  });

  test('gradients match finite differences for input, context and parameters', () => {
    const mha = new MultiheadAttention(4, 2, { kvDim: 3, rng: gen });
    const x = randn([1, 3, 4]);
    const context = randn([1, 2, 3]);
    const r = randn([1, 3, 4]);
    const maskTensor = tf.tensor2d([[1, 0]]);
    const loss = (input: tf.Tensor, ctx: tf.Tensor) =>
      tf.sum(
        tf.mul(mha.apply(input, { context: ctx, causal: true, keyPaddingMask: maskTensor }), r),
      ) as tf.Scalar;
    expect(checkGradients(([input, ctx]) => loss(input!, ctx!), [x, context])).toBeLessThan(1e-2);
    expect(checkModuleGradients(mha, () => loss(x, context))).toBeLessThan(1e-2);
    tf.dispose([x, context, r, maskTensor]);
    mha.dispose();
  });

  test('leaks nothing, is deterministic under a seed and names wrong shapes', async () => {
    const a = new MultiheadAttention(4, 2, { kvDim: 6, rng: new TorchGenerator(3) });
    const b = new MultiheadAttention(4, 2, { kvDim: 6, rng: new TorchGenerator(3) });
    for (const [key, p] of a.namedParameters()) {
      expect(Array.from(p.variable.dataSync())).toEqual(
        Array.from(b.namedParameters().get(key)!.variable.dataSync()),
      );
    }
    const x = randn([2, 3, 4]);
    const context = randn([2, 5, 6]);
    const mask = tf.ones([2, 5]);
    await expectNoLeaks(() => a.apply(x, { context, causal: true, keyPaddingMask: mask }));

    const wrongContext = tf.zeros([2, 5, 4]);
    const wrongBatch = tf.zeros([1, 5, 6]);
    const wrongMask = tf.ones([2, 4]);
    expect(() => a.apply(context)).toThrow(
      'MultiheadAttention: expected input with last dimension 4, got shape [2, 5, 6]',
    );
    expect(() => a.apply(x, { context: wrongContext })).toThrow(
      'MultiheadAttention context: expected input with last dimension 6, got shape [2, 5, 4]',
    );
    expect(() => a.apply(x, { context: wrongBatch })).toThrow(/context batch 1 does not match input batch 2/);
    expect(() => a.apply(x, { context, keyPaddingMask: wrongMask })).toThrow(
      'MultiheadAttention: expected keyPaddingMask of shape [2, 5], got [2, 4]',
    );
    tf.dispose([x, context, mask, wrongContext, wrongBatch, wrongMask]);
    a.dispose();
    b.dispose();
  });
});
