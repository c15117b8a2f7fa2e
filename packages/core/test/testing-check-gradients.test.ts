import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { Module } from '../src/nn/module.js';
import { checkGradients, checkModuleGradients, expectNoLeaks } from '../src/testing/index.js';

// x^2 with a deliberately wrong gradient (3x instead of 2x).
const wrongSquare = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return {
    value: tf.square(x),
    gradFunc: (dy, saved) => tf.mul(dy, tf.mul(saved[0] as tf.Tensor, 3)),
  };
}) as (x: tf.Tensor) => tf.Tensor;

class Scale extends Module {
  readonly weight: tf.Variable;
  constructor(
    values: number[],
    private readonly op: (x: tf.Tensor) => tf.Tensor,
  ) {
    super();
    this.weight = tf.tidy(() => this.addParameter('weight', tf.tensor2d(values, [2, 2]), 'linear'));
  }
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.matMul(x, this.op(this.weight)));
  }
}

describe('checkGradients', () => {
  test('agrees with finite differences for a correct gradient', () => {
    const x = tf.tensor1d([0.3, -1.2, 2.0, 0.7]);
    const y = tf.tensor1d([1.5, 0.4, -0.8, 1.1]);
    const error = checkGradients(([a, b]) => tf.sum(tf.mul(tf.sin(a!), b!)), [x, y], { tolerance: 1e-2 });
    expect(error).toBeLessThan(1e-2);
    tf.dispose([x, y]);
  });

  test('reports a wrong gradient and throws past the tolerance', () => {
    const x = tf.tensor1d([0.5, -1, 2]);
    const error = checkGradients(([a]) => tf.sum(wrongSquare(a!)), [x]);
    expect(error).toBeGreaterThan(0.3);
    expect(() => checkGradients(([a]) => tf.sum(wrongSquare(a!)), [x], { tolerance: 0.1 })).toThrow(
      /relative error .* > 0.1 at input 0/,
    );
    x.dispose();
  });

  test('does not turn rounding noise on an exactly-zero gradient into a failure', () => {
    // softmax is shift-invariant, so the gradient for the shift is exactly 0
    const x = tf.tensor1d([0.3, -1.2, 2.0, 0.7, 1.5, -0.4, 0.9, 1.1]);
    const shift = tf.tensor1d([0.25]);
    const r = tf.tensor1d([3, -2, 5, 1, -4, 2, 0.5, -1]);
    const fn = ([a, s]: tf.Tensor[]) => tf.sum(tf.mul(tf.softmax(tf.add(a!, s!)), r)) as tf.Scalar;
    expect(checkGradients(fn, [x, shift], { tolerance: 1e-2 })).toBeLessThan(1e-2);
    // with no floor at all, the same noise is a large relative error
    expect(checkGradients(fn, [x, shift], { floor: 0, relativeFloor: 0 })).toBeGreaterThan(1e-2);
    tf.dispose([x, shift, r]);
  });

  test('samples at most maxEntries entries of a large input', () => {
    const x = tf.randomNormal([1000], 0, 1, 'float32', 1);
    let calls = 0;
    checkGradients(
      ([a]) => {
        calls += 1;
        return tf.sum(tf.square(a!));
      },
      [x],
      { maxEntries: 5 },
    );
    // one tf.grads pass plus two evaluations per sampled entry
    expect(calls).toBe(1 + 2 * 5);
    x.dispose();
  });

  test('leaks no tensors', async () => {
    const x = tf.tensor1d([0.5, -1, 2]);
    await expectNoLeaks(() => checkGradients(([a]) => tf.sum(tf.exp(a!)), [x]));
    x.dispose();
  });
});

describe('checkModuleGradients', () => {
  test('agrees with finite differences and restores the parameters exactly', () => {
    const module = new Scale([0.1, 0.2, -0.3, 0.4], tf.sin);
    const x = tf.tensor2d([1, 2, -1, 0.5], [2, 2]);
    const before = Array.from(module.weight.dataSync());
    const error = checkModuleGradients(module, () => tf.sum(module.apply(x)), { tolerance: 1e-2 });
    expect(error).toBeLessThan(1e-2);
    expect(Array.from(module.weight.dataSync())).toEqual(before);
    module.dispose();
    x.dispose();
  });

  test('catches a wrong parameter gradient', () => {
    const module = new Scale([0.5, 1, -1, 2], wrongSquare);
    const x = tf.tensor2d([1, 2, -1, 0.5], [2, 2]);
    expect(checkModuleGradients(module, () => tf.sum(module.apply(x)))).toBeGreaterThan(0.3);
    expect(() => checkModuleGradients(module, () => tf.sum(module.apply(x)), { tolerance: 0.1 })).toThrow(
      /"weight"/,
    );
    module.dispose();
    x.dispose();
  });

  test('leaks no tensors', async () => {
    const module = new Scale([0.1, 0.2, -0.3, 0.4], tf.sin);
    const x = tf.tensor2d([1, 2, -1, 0.5], [2, 2]);
    await expectNoLeaks(() => checkModuleGradients(module, () => tf.sum(module.apply(x))));
    module.dispose();
    x.dispose();
  });
});
