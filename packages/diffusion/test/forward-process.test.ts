import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { addNoise, getTarget, getVelocity, NoiseSchedule, predictOriginalSample } from '../src/index.js';

const schedule = new NoiseSchedule({ betaSchedule: 'cosine', numTrainTimesteps: 100 });

function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.max(tf.abs(tf.sub(a, b)));
  const value = (await d.data())[0] as number;
  d.dispose();
  return value;
}

describe('addNoise', () => {
  it('computes sqrt(abar_t) x0 + sqrt(1 - abar_t) noise for each sample', async () => {
    const x0 = randomTensor([3, 4, 4, 2], 1);
    const noise = randomTensor([3, 4, 4, 2], 2);
    const t = [0, 50, 99];
    const before = tf.memory().numTensors;
    const xt = addNoise(schedule, x0, noise, t);
    expect(tf.memory().numTensors).toBe(before + 1);
    const [x0Data, noiseData, xtData] = await Promise.all([x0, noise, xt].map((x) => x.data()));
    for (let i = 0; i < 96; i++) {
      const a = schedule.alphasCumprod[t[Math.floor(i / 32)] as number] as number;
      const expected = (x0Data?.[i] as number) * Math.sqrt(a) + (noiseData?.[i] as number) * Math.sqrt(1 - a);
      expect(xtData?.[i]).toBeCloseTo(expected, 5);
    }
    tf.dispose([x0, noise, xt]);
  });

  it('takes timesteps as numbers, arrays or int32 tensors, one per sample or one for all', async () => {
    const x0 = randomTensor([2, 5], 3);
    const noise = randomTensor([2, 5], 4);
    const fromArray = addNoise(schedule, x0, noise, [7, 7]);
    const tensorT = tf.tensor1d([7, 7], 'int32');
    const fromTensor = addNoise(schedule, x0, noise, tensorT);
    const fromNumber = addNoise(schedule, x0, noise, 7);
    expect(await maxAbsDiff(fromArray, fromTensor)).toBe(0);
    expect(await maxAbsDiff(fromArray, fromNumber)).toBe(0);
    expect(() => addNoise(schedule, x0, noise, [1, 2, 3])).toThrow(/3 timesteps for a batch of 2/);
    expect(() => addNoise(schedule, x0, noise, [1, 100])).toThrow(
      /timestep 100 is not an integer in \[0, 100\)/,
    );
    const floatT = tf.tensor1d([1, 2]);
    expect(() => addNoise(schedule, x0, noise, floatT)).toThrow(/int32/);
    tf.dispose([x0, noise, fromArray, tensorT, fromTensor, fromNumber, floatT]);
  });
});

describe('training targets', () => {
  it('v-target identity: x0 = sqrt(abar) x_t - sqrt(1 - abar) v and eps = sqrt(1 - abar) x_t + sqrt(abar) v', async () => {
    const x0 = randomTensor([4, 3, 3, 2], 5);
    const noise = randomTensor([4, 3, 3, 2], 6);
    const t = [1, 30, 60, 99];
    const xt = addNoise(schedule, x0, noise, t);
    const v = getTarget(schedule, 'v_prediction', x0, noise, t);
    const x0FromV = predictOriginalSample(schedule, 'v_prediction', v, xt, t);
    expect(await maxAbsDiff(x0FromV, x0)).toBeLessThan(1e-5);
    const signal = tf.tensor(
      [1, 30, 60, 99].map((s) => Math.sqrt(schedule.alphasCumprod[s] as number)),
      [4, 1, 1, 1],
    );
    const noiseScale = tf.tensor(
      [1, 30, 60, 99].map((s) => Math.sqrt(1 - (schedule.alphasCumprod[s] as number))),
      [4, 1, 1, 1],
    );
    const epsFromV = tf.add(tf.mul(noiseScale, xt), tf.mul(signal, v));
    expect(await maxAbsDiff(epsFromV, noise)).toBeLessThan(1e-5);
    const velocity = getVelocity(schedule, x0, noise, t);
    expect(await maxAbsDiff(velocity, v)).toBe(0);
    tf.dispose([x0, noise, xt, v, x0FromV, signal, noiseScale, epsFromV, velocity]);
  });

  it('epsilon and sample targets are copies of the noise and of x0', async () => {
    const x0 = randomTensor([2, 3], 7);
    const noise = randomTensor([2, 3], 8);
    const eps = getTarget(schedule, 'epsilon', x0, noise, [3, 4]);
    const sample = getTarget(schedule, 'sample', x0, noise, [3, 4]);
    expect(eps).not.toBe(noise);
    expect(await maxAbsDiff(eps, noise)).toBe(0);
    expect(await maxAbsDiff(sample, x0)).toBe(0);
    const xt = addNoise(schedule, x0, noise, [3, 4]);
    const fromEps = predictOriginalSample(schedule, 'epsilon', noise, xt, [3, 4]);
    expect(await maxAbsDiff(fromEps, x0)).toBeLessThan(1e-5);
    expect(() => getTarget(schedule, 'x0' as never, x0, noise, 3)).toThrow(
      /'epsilon', 'sample', 'v_prediction'/,
    );
    tf.dispose([x0, noise, eps, sample, xt, fromEps]);
  });
});
