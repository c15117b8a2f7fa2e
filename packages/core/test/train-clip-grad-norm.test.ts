import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { expectNoLeaks } from '../src/testing/index.js';
import { clipCoefficient, clipGradNorm } from '../src/train/index.js';

describe('clipGradNorm', () => {
  test('scales by maxNorm / (norm + 1e-6) when the global norm is larger', () => {
    const a = tf.tensor1d([3, 0]);
    const b = tf.tensor2d([0, 4, 0, 0], [2, 2]);
    const { grads, totalNorm } = clipGradNorm([a, b], 1);
    expect(totalNorm.dataSync()[0]).toBeCloseTo(5, 6);
    const coef = 1 / (5 + 1e-6);
    expect(Array.from(grads[0]!.dataSync())).toEqual([Math.fround(3 * coef), 0]);
    expect(grads[1]!.dataSync()[1]).toBeCloseTo(4 * coef, 7);
    // arguments stay intact
    expect(Array.from(a.dataSync())).toEqual([3, 0]);
    tf.dispose([a, b, totalNorm, ...grads]);
  });

  test('leaves gradients under the limit unchanged', () => {
    const a = tf.tensor1d([0.3, -0.4]);
    const { grads, totalNorm } = clipGradNorm([a], 1);
    expect(totalNorm.dataSync()[0]).toBeCloseTo(0.5, 6);
    expect(Array.from(grads[0]!.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, totalNorm, ...grads]);
  });

  test('keeps the container kind: Map by variable and tf.variableGrads maps', () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const g = tf.tensor1d([6, 8]);
    const fromMap = clipGradNorm(new Map([[v, g]]), 5);
    expect(fromMap.grads.get(v)!.dataSync()[1]).toBeCloseTo(4, 5);
    const fromRecord = clipGradNorm({ [v.name]: g }, 5);
    expect(fromRecord.grads[v.name]!.dataSync()[0]).toBeCloseTo(3, 5);
    tf.dispose([v, g, fromMap.totalNorm, fromRecord.totalNorm, ...fromMap.grads.values()]);
    tf.dispose(Object.values(fromRecord.grads));
  });

  test('rejects a non-positive maxNorm and leaks nothing', async () => {
    const a = tf.tensor1d([3, 4]);
    expect(() => clipGradNorm([a], 0)).toThrow(/maxNorm must be positive/);
    await expectNoLeaks(() => {
      const { grads, totalNorm } = clipGradNorm([a], 1);
      tf.dispose([totalNorm, ...grads]);
    });
    a.dispose();
  });
});

describe('clipCoefficient', () => {
  test('is min(1, maxNorm / (norm + 1e-6)), the factor clipGradNorm scales by', () => {
    const a = tf.tensor1d([3, 0]);
    const b = tf.tensor2d([0, 4, 0, 0], [2, 2]);
    const over = clipCoefficient([a, b], 1);
    expect(over.totalNorm.dataSync()[0]).toBeCloseTo(5, 6);
    expect(over.coefficient.dataSync()[0]).toBe(Math.fround(1 / Math.fround(5 + 1e-6)));
    const under = clipCoefficient([a, b], 10);
    expect(under.coefficient.dataSync()[0]).toBe(1);
    tf.dispose([a, b, over.coefficient, over.totalNorm, under.coefficient, under.totalNorm]);
  });

  test('leaks nothing', async () => {
    const a = tf.tensor1d([3, 4]);
    await expectNoLeaks(() => tf.dispose(Object.values(clipCoefficient([a], 1))));
    a.dispose();
  });
});
