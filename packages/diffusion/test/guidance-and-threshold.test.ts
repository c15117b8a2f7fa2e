import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { applyGuidance, dynamicThreshold } from '../src/index.js';

describe('applyGuidance', () => {
  const cond = tf.tensor1d([0.3, -1.7, 2.9]);
  const uncond = tf.tensor1d([0.1, 0.2, -0.7]);

  it('scale 1 returns the conditional prediction exactly, in a new tensor', async () => {
    const guided = applyGuidance(cond, uncond, 1);
    expect(guided).not.toBe(cond);
    expect(Array.from(await guided.data())).toEqual(Array.from(await cond.data()));
    guided.dispose();
    expect(cond.isDisposed).toBe(false);
  });

  it('scale s gives uncond + s (cond - uncond); 0 gives uncond', async () => {
    const guided = applyGuidance(cond, uncond, 4);
    const expected = [0.1 + 4 * 0.2, 0.2 + 4 * -1.9, -0.7 + 4 * 3.6];
    Array.from(await guided.data()).forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i] as number, 5);
    });
    const zero = applyGuidance(cond, uncond, 0);
    expect(Array.from(await zero.data())).toEqual(Array.from(await uncond.data()));
    tf.dispose([guided, zero]);
    expect(() => applyGuidance(cond, uncond, Number.NaN)).toThrow(/finite/);
  });
});

/** torch.quantile's linear interpolation, by sorting. */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = q * (sorted.length - 1);
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (position - lo);
}

describe('dynamicThreshold', () => {
  it('clips each sample to its ratio quantile of |x| (at least 1, at most maxValue) and rescales', async () => {
    const values = Array.from(
      { length: 2 * 50 },
      (_, i) => Math.sin(i * 1.7) * (i < 50 ? 3 : 0.8) + (i % 7) * 0.1,
    );
    const x = tf.tensor(values, [2, 5, 5, 2]);
    const before = tf.memory().numTensors;
    const y = dynamicThreshold(x, { ratio: 0.9, maxValue: 2.5 });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(y.shape).toEqual([2, 5, 5, 2]);
    const got = await y.data();
    for (let b = 0; b < 2; b++) {
      const sampleValues = values.slice(b * 50, b * 50 + 50);
      const s = Math.min(Math.max(quantile(sampleValues.map(Math.abs), 0.9), 1), 2.5);
      sampleValues.forEach((v, i) => {
        expect(got[b * 50 + i]).toBeCloseTo(Math.min(Math.max(v, -s), s) / s, 5);
      });
    }
    tf.dispose([x, y]);
  });

  it('leaves samples already in [-1, 1] unchanged', async () => {
    const x = tf.tensor2d([[0.5, -0.9, 0.99, 0]]);
    const y = dynamicThreshold(x);
    expect(Array.from(await y.data())).toEqual(Array.from(await x.data()));
    tf.dispose([x, y]);
  });
});
