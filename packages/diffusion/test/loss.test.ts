import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { diffusionLoss, NoiseSchedule, p2LossWeight } from '../src/index.js';

async function value(x: tf.Tensor): Promise<number> {
  const v = (await x.data())[0] as number;
  x.dispose();
  return v;
}

describe('diffusionLoss', () => {
  // Errors per sample: [0.5, -2] and [3, 0.1].
  const prediction = tf.tensor2d([
    [1.5, -1],
    [3, 0.1],
  ]);
  const target = tf.tensor2d([
    [1, 1],
    [0, 0],
  ]);

  it('l1, l2 and huber (delta 1) reduce per sample, then over the batch', async () => {
    const before = tf.memory().numTensors;
    expect(await value(diffusionLoss(prediction, target, { loss: 'l1' }))).toBeCloseTo(
      (0.5 + 2 + 3 + 0.1) / 4,
      6,
    );
    expect(await value(diffusionLoss(prediction, target))).toBeCloseTo((0.25 + 4 + 9 + 0.01) / 4, 6);
    const huber = [0.5 * 0.25, 2 - 0.5, 3 - 0.5, 0.5 * 0.01];
    expect(await value(diffusionLoss(prediction, target, { loss: 'huber' }))).toBeCloseTo(
      huber.reduce((a, b) => a + b) / 4,
      6,
    );
    // delta 2: 0.5 e^2 below 2, 2 (|e| - 1) above
    const huber2 = [0.5 * 0.25, 0.5 * 4, 2 * (3 - 1), 0.5 * 0.01];
    expect(await value(diffusionLoss(prediction, target, { loss: 'huber', huberDelta: 2 }))).toBeCloseTo(
      huber2.reduce((a, b) => a + b) / 4,
      6,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('weights each sample', async () => {
    const perSample = [(0.25 + 4) / 2, (9 + 0.01) / 2];
    const expected = (perSample[0]! * 2 + perSample[1]! * 0.5) / 2;
    expect(await value(diffusionLoss(prediction, target, { weights: [2, 0.5] }))).toBeCloseTo(expected, 5);
    const w = tf.tensor1d([2, 0.5]);
    expect(await value(diffusionLoss(prediction, target, { weights: w }))).toBeCloseTo(expected, 5);
    w.dispose();
  });

  it('rejects unknown losses, mismatched shapes and weights', () => {
    expect(() => diffusionLoss(prediction, target, { loss: 'mse' as never })).toThrow(/'l1', 'l2', 'huber'/);
    const other = tf.zeros([2, 3]);
    expect(() => diffusionLoss(prediction, other)).toThrow(/differ in shape/);
    expect(() => diffusionLoss(prediction, target, { weights: [1] })).toThrow(
      /1 loss weights for a batch of 2/,
    );
    other.dispose();
  });
});

describe('p2LossWeight', () => {
  const schedule = new NoiseSchedule({ betaSchedule: 'cosine', numTrainTimesteps: 1000 });

  it('is 1 when gamma is 0 and 1 - abar_t when gamma = k = 1', async () => {
    const t = [0, 10, 500, 999];
    const ones = p2LossWeight(schedule, t);
    expect(Array.from(await ones.data())).toEqual([1, 1, 1, 1]);
    const weights = p2LossWeight(schedule, t, { gamma: 1, k: 1 }); // (1 + snr)^-1 = 1 - abar
    const got = await weights.data();
    t.forEach((s, i) => {
      expect(got[i]).toBeCloseTo(1 - (schedule.alphasCumprod[s] as number), 6);
    });
    expect(weights.shape).toEqual([4]);
    tf.dispose([ones, weights]);
  });

  it('down-weights the low-noise steps more as gamma grows', async () => {
    const w = p2LossWeight(schedule, [10, 900], { gamma: 0.5, k: 1 });
    const [low, high] = await w.data();
    expect(low).toBeLessThan(high as number);
    const snr = schedule.snr(10);
    expect(low).toBeCloseTo((1 + snr) ** -0.5, 6);
    w.dispose();
  });
});
