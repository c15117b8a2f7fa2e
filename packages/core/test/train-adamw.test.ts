import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { expectNoLeaks } from '../src/testing/index.js';
import { AdamW } from '../src/train/index.js';
import { referenceAdamW } from './adamw-reference.js';

const W0 = [0.5, -1.0, 2.0, 0.25];
const B0 = [0.1, -0.2];
const WGRADS = [
  [0.3, -0.6, 1.2, 0.05],
  [-0.1, 0.4, 0.9, -0.3],
  [0.2, 0.2, -0.5, 0.7],
];
const BGRADS = [
  [1.0, -0.5],
  [0.5, 0.25],
  [-0.75, 2.0],
];

function setup(options: ConstructorParameters<typeof AdamW>[1]) {
  const w: tf.Variable = tf.variable(tf.tensor2d(W0, [2, 2]));
  const b: tf.Variable = tf.variable(tf.tensor1d(B0));
  const optimizer = new AdamW(
    new Map([
      ['weight', w],
      ['bias', b],
    ]),
    options,
  );
  const run = (steps: number) => {
    for (let s = 0; s < steps; s++) {
      const grads = new Map<tf.Variable, tf.Tensor>([
        [w, tf.tensor2d(WGRADS[s]!, [2, 2])],
        [b, tf.tensor1d(BGRADS[s]!)],
      ]);
      optimizer.step(grads);
      tf.dispose([...grads.values()]);
    }
  };
  const dispose = () => {
    optimizer.dispose();
    tf.dispose([w, b]);
  };
  return { w, b, optimizer, run, dispose };
}

function expectClose(actual: ArrayLike<number>, expected: number[], tol = 2e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(tol);
}

describe('AdamW', () => {
  test('first step is p * (1 - lr * wd) - lr * sign(g) (hand-computed)', () => {
    const { w, b, run, dispose } = setup({ lr: 0.1, weightDecay: 0.1 });
    run(1);
    // 0.5 * 0.99 - 0.1 * 0.3 / (0.3 + 1e-8 ...) etc.
    expectClose(w.dataSync(), [0.395, -0.89, 1.88, 0.1475]);
    // biases (rank 1) are not decayed
    expectClose(b.dataSync(), [0.0, -0.1]);
    dispose();
  });

  for (const weightDecay of [0, 0.1]) {
    test(`three steps match PyTorch's formulas (weightDecay ${weightDecay}, rank-1 excluded)`, () => {
      const o = { lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay };
      const { w, b, run, dispose } = setup({ lr: o.lr, weightDecay });
      run(3);
      expectClose(w.dataSync(), referenceAdamW(W0, WGRADS, o).param);
      expectClose(b.dataSync(), referenceAdamW(B0, BGRADS, { ...o, weightDecay: 0 }).param);
      dispose();
    });
  }

  test('custom betas, eps and a decay filter that includes rank-1 parameters', () => {
    const o = { lr: 0.01, beta1: 0.8, beta2: 0.99, eps: 1e-3, weightDecay: 0.5 };
    const { b, run, dispose } = setup({
      lr: o.lr,
      betas: [0.8, 0.99],
      eps: 1e-3,
      weightDecay: 0.5,
      decays: () => true,
    });
    run(3);
    expectClose(b.dataSync(), referenceAdamW(B0, BGRADS, o).param);
    dispose();
  });

  test('setLearningRate applies from the next step', () => {
    const { w, optimizer, run, dispose } = setup({ lr: 0.1, weightDecay: 0 });
    optimizer.setLearningRate(0.01);
    expect(optimizer.learningRate).toBe(0.01);
    run(1);
    expectClose(w.dataSync(), [0.49, -0.99, 1.99, 0.24]);
    dispose();
  });

  test('accepts tf.variableGrads maps and aligned arrays', () => {
    const w = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]));
    const b = tf.variable(tf.tensor1d([1, 2]));
    const optimizer = new AdamW([w, b], { lr: 0.1, weightDecay: 0 });
    expect(optimizer.names).toEqual(['0', '1']);
    // d/dw = 2 (w is summed into both entries of b), d/db = 1
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.add(tf.sum(w), b)), [w, b]);
    optimizer.step(grads);
    expectClose(w.dataSync(), [0.9, 1.9, 2.9, 3.9]);
    expectClose(b.dataSync(), [0.9, 1.9]);
    const list = [tf.fill([2, 2], -3), tf.fill([2], 0.5)];
    optimizer.step(list);
    const o = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };
    const wGrads = [Array(4).fill(2), Array(4).fill(-3)];
    expectClose(w.dataSync(), referenceAdamW([1, 2, 3, 4], wGrads, o).param);
    expectClose(b.dataSync(), referenceAdamW([1, 2], [Array(2).fill(1), Array(2).fill(0.5)], o).param);
    expect(() => optimizer.step([list[0]!])).toThrow(/got 1 gradients for 2 parameters/);
    tf.dispose([value, ...Object.values(grads), ...list]);
    optimizer.dispose();
    tf.dispose([w, b]);
  });

  test('rejects unknown variables and wrong gradient shapes', () => {
    const { w, optimizer, dispose } = setup({});
    const stranger = tf.variable(tf.zeros([2]));
    const g = tf.zeros([2]);
    expect(() => optimizer.step(new Map([[stranger, g]]))).toThrow(/not optimized here/);
    expect(() => optimizer.step(new Map([[w, g]]))).toThrow(
      /gradient for "weight" has shape \[2\], parameter has \[2, 2\]/,
    );
    expect(() => new AdamW([w], { betas: [1, 0.999] })).toThrow(/betas\[0\] must be in \[0, 1\)/);
    const notScalar = tf.ones([2]);
    const wGrad = tf.zeros([2, 2]);
    expect(() => optimizer.step(new Map([[w, wGrad]]), { gradScale: notScalar as tf.Scalar })).toThrow(
      /gradScale must be a scalar, got shape \[2\]/,
    );
    tf.dispose([notScalar, wGrad]);
    tf.dispose([stranger, g]);
    dispose();
  });

  test('exported state resumes exactly and is keyed by parameter name', async () => {
    const a = setup({ lr: 0.05 });
    a.run(2);
    const state = a.optimizer.exportState();
    expect([...state.keys()].sort()).toEqual(
      [
        'bias.exp_avg',
        'bias.exp_avg_sq',
        'bias.step',
        'weight.exp_avg',
        'weight.exp_avg_sq',
        'weight.step',
      ].sort(),
    );
    expect(state.get('weight.step')!.dataSync()[0]).toBe(2);

    const w: tf.Variable = tf.variable(tf.clone(a.w));
    const b: tf.Variable = tf.variable(tf.clone(a.b));
    const resumed = new AdamW(
      new Map([
        ['weight', w],
        ['bias', b],
      ]),
      { lr: 0.05 },
    );
    await resumed.importState(state);
    tf.dispose([...state.values()]);
    const gw: tf.Tensor = tf.tensor2d(WGRADS[2]!, [2, 2]);
    const gb: tf.Tensor = tf.tensor1d(BGRADS[2]!);
    resumed.step(
      new Map([
        [w, gw],
        [b, gb],
      ]),
    );
    a.optimizer.step(
      new Map([
        [a.w, gw],
        [a.b, gb],
      ]),
    );
    expect(Array.from(w.dataSync())).toEqual(Array.from(a.w.dataSync()));
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.b.dataSync()));

    const bad = new Map([['weight.exp_avg', tf.zeros([3])]]);
    await expect(resumed.importState(bad)).rejects.toThrow(/incomplete state for "weight"/);
    const unknown = new Map([['other.exp_avg', tf.zeros([3])]]);
    await expect(resumed.importState(unknown)).rejects.toThrow(/unknown keys other.exp_avg/);
    tf.dispose([gw, gb, ...bad.values(), ...unknown.values(), w, b]);
    resumed.dispose();
    a.dispose();
  });

  test('step, export and import leak no tensors', async () => {
    const { w, b, optimizer, dispose } = setup({});
    const gw: tf.Tensor = tf.ones([2, 2]);
    const gb: tf.Tensor = tf.ones([2]);
    const grads = new Map([
      [w, gw],
      [b, gb],
    ]);
    await expectNoLeaks(() => optimizer.step(grads));
    await expectNoLeaks(async () => {
      const state = optimizer.exportState();
      await optimizer.importState(state);
      tf.dispose([...state.values()]);
    });
    tf.dispose([gw, gb]);
    const before = tf.memory().numTensors;
    dispose();
    expect(tf.memory().numTensors).toBe(before - 6);
  });
});
