import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { SinusoidalTimeEmbedding, sinusoidalEmbedding } from '../src/layers/index.js';
import { expectNoLeaks } from '../src/testing/index.js';

const timesteps = [0, 1, 10, 999];

describe('sinusoidalEmbedding', () => {
  test("defaults equal DALLE2-pytorch's SinusoidalPosEmb: log(10000) / (half - 1), [sin, cos]", () => {
    const t = tf.tensor1d(timesteps, 'int32');
    const y = sinusoidalEmbedding(t, 8);
    expect(y.shape).toEqual([4, 8]);
    const rows = y.arraySync();
    const step = Math.log(10000) / 3;
    timesteps.forEach((ts, b) => {
      for (let i = 0; i < 4; i++) {
        const arg = ts * Math.exp(-i * step);
        expect(rows[b]![i]).toBeCloseTo(Math.sin(arg), 4);
        expect(rows[b]![4 + i]).toBeCloseTo(Math.cos(arg), 4);
      }
    });
    // t = 1: the first frequency is 1 and the last is 1 / maxPeriod
    expect(rows[1]![0]).toBeCloseTo(Math.sin(1), 6);
    expect(rows[1]![3]).toBeCloseTo(Math.sin(1e-4), 8);
    tf.dispose([t, y]);
  });

  test("guided-diffusion's timestep_embedding: shift 0, [cos, sin], zero column for odd dim", () => {
    const t = tf.tensor1d([0, 3, 250.5]);
    const y = sinusoidalEmbedding(t, 7, { flipSinToCos: true, downscaleFreqShift: 0, maxPeriod: 1000 });
    expect(y.shape).toEqual([3, 7]);
    const rows = y.arraySync();
    [0, 3, 250.5].forEach((ts, b) => {
      for (let i = 0; i < 3; i++) {
        const arg = ts * Math.exp((-Math.log(1000) * i) / 3);
        expect(rows[b]![i]).toBeCloseTo(Math.cos(arg), 4);
        expect(rows[b]![3 + i]).toBeCloseTo(Math.sin(arg), 4);
      }
      expect(rows[b]![6]).toBe(0);
    });
    tf.dispose([t, y]);
  });

  test('the module wrapper matches, leaks nothing and checks its input', async () => {
    const t = tf.tensor1d([5, 7]);
    const module = new SinusoidalTimeEmbedding(6, { flipSinToCos: true });
    const fromModule = module.apply(t);
    const direct = sinusoidalEmbedding(t, 6, { flipSinToCos: true });
    expect(Array.from(fromModule.dataSync())).toEqual(Array.from(direct.dataSync()));
    expect(module.numParameters()).toBe(0);
    await expectNoLeaks(() => module.apply(t));
    const matrix = tf.zeros([2, 2]) as unknown as tf.Tensor1D;
    expect(() => sinusoidalEmbedding(matrix, 6)).toThrow(
      'sinusoidalEmbedding: expected timesteps of shape [B], got [2, 2]',
    );
    expect(() => sinusoidalEmbedding(t, 2)).toThrow(/too small for downscaleFreqShift 1/);
    tf.dispose([t, fromModule, direct, matrix]);
    module.dispose();
  });
});
