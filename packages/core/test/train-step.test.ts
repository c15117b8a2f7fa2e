import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { Module } from '../src/nn/module.js';
import { expectNoLeaks } from '../src/testing/index.js';
import { AdamW, clipGradNorm, trainStep } from '../src/train/index.js';

class Affine extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor() {
    super();
    this.weight = tf.tidy(() =>
      this.addParameter('weight', tf.tensor2d([0.5, -0.25, 1, 0.75], [2, 2]), 'linear'),
    );
    this.bias = tf.tidy(() => this.addParameter('bias', tf.tensor1d([0.1, -0.1])));
  }
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.add(tf.matMul(x, this.weight), this.bias));
  }
}

const x = tf.tensor2d([1, 2, -1, 0.5, 3, -2], [3, 2]);
const y = tf.tensor2d([1, 0, 0, 1, 2, -1], [3, 2]);
const mse = (module: Affine) => () => tf.mean(tf.square(tf.sub(module.apply(x), y))) as tf.Scalar;

describe('trainStep', () => {
  test('returns the loss before the step and matches a manual clip + AdamW step', async () => {
    const a = new Affine();
    const b = new Affine();
    const optA = new AdamW(a, { lr: 0.05 });
    const optB = new AdamW(b, { lr: 0.05 });
    const expectedLoss = tf.tidy(() => mse(a)().dataSync()[0]!);
    const loss = await trainStep(a, mse(a), optA, { clip: 0.5 });
    expect(loss).toBeCloseTo(expectedLoss, 6);

    const { value, grads } = tf.variableGrads(mse(b), b.trainableVariables());
    const clipped = clipGradNorm(grads, 0.5);
    expect(clipped.totalNorm.dataSync()[0]).toBeGreaterThan(0.5); // so clipping mattered
    optB.step(clipped.grads);
    tf.dispose([value, clipped.totalNorm, ...Object.values(grads), ...Object.values(clipped.grads)]);
    expect(Array.from(a.weight.dataSync())).toEqual(Array.from(b.weight.dataSync()));
    expect(Array.from(a.bias.dataSync())).toEqual(Array.from(b.bias.dataSync()));
    for (const m of [a, b]) m.dispose();
    optA.dispose();
    optB.dispose();
  });

  test('reduces the loss over a few steps and leaks nothing', async () => {
    const module = new Affine();
    const optimizer = new AdamW(module, { lr: 0.1, weightDecay: 0 });
    const first = await trainStep(module, mse(module), optimizer);
    let last = first;
    for (let i = 0; i < 20; i++) last = await trainStep(module, mse(module), optimizer);
    expect(last).toBeLessThan(first / 2);
    await expectNoLeaks(() => trainStep(module, mse(module), optimizer, { clip: 1 }));
    await expectNoLeaks(() => trainStep(module, mse(module), optimizer));
    module.dispose();
    optimizer.dispose();
  });
});
