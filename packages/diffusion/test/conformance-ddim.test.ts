import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { DDIMScheduler, type DDIMSchedulerConfig } from '../src/index.js';
import { dummyModel, dummyNoise, dummySample, sumMeanAbs } from './dummy-inputs.js';

// Numbers from diffusers' DDIM scheduler tests (../shared/conformance/README.md).
const base: DDIMSchedulerConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
  clipSample: true,
};

async function fullLoop(config: DDIMSchedulerConfig): Promise<[number, number]> {
  const scheduler = new DDIMScheduler({ ...base, ...config });
  scheduler.setTimesteps(10);
  let sample = dummySample();
  for (const t of scheduler.timesteps) {
    const residual = dummyModel(sample, t);
    const { prevSample, predOriginalSample } = scheduler.step(residual, t, sample);
    tf.dispose([residual, predOriginalSample, sample]);
    sample = prevSample;
  }
  const result = await sumMeanAbs(sample);
  sample.dispose();
  return result;
}

describe('DDIMScheduler conformance with diffusers', () => {
  it('set_timesteps(10) gives 900, 800, ..., 0', () => {
    const scheduler = new DDIMScheduler(base);
    scheduler.setTimesteps(10);
    expect(scheduler.timesteps).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
  });

  it('steps_offset=1 with set_timesteps(5) gives 801, 601, 401, 201, 1', () => {
    const scheduler = new DDIMScheduler({ ...base, stepsOffset: 1 });
    scheduler.setTimesteps(5);
    expect(scheduler.timesteps).toEqual([801, 601, 401, 201, 1]);
  });

  it.each([
    [0, 0, 0],
    [420, 400, 0.14771],
    [980, 960, 0.3246],
    [487, 486, 0.00979],
    [999, 998, 0.02],
  ])('variance(%i, %i) = %f', (t, prevT, expected) => {
    const scheduler = new DDIMScheduler(base);
    expect(Math.abs(scheduler.getVariance(t, prevT) - expected)).toBeLessThan(1e-5);
  });

  it.each<[string, DDIMSchedulerConfig, number, number]>([
    ['epsilon prediction', {}, 172.0067, 0.223967],
    ['v prediction', { predictionType: 'v_prediction' }, 52.5302, 0.0684],
    ['beta_start=0.01, set_alpha_to_one', { betaStart: 0.01, setAlphaToOne: true }, 149.8295, 0.1951],
    ['beta_start=0.01, no set_alpha_to_one', { betaStart: 0.01, setAlphaToOne: false }, 149.0784, 0.1941],
  ])('full loop, %s', async (_, config, sum, mean) => {
    const before = tf.memory().numTensors;
    const [gotSum, gotMean] = await fullLoop(config);
    expect(Math.abs(gotSum - sum)).toBeLessThan(1e-2);
    expect(Math.abs(gotMean - mean)).toBeLessThan(1e-3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('full loop over [100, 0] from the sample noised to t=100', async () => {
    const scheduler = new DDIMScheduler(base);
    scheduler.setTimesteps(10);
    const timesteps = scheduler.timesteps.slice(8);
    expect(timesteps).toEqual([100, 0]);
    const x0 = dummySample();
    const noise = dummyNoise();
    let sample = scheduler.addNoise(x0, noise, timesteps.slice(0, 1));
    for (const t of timesteps) {
      const residual = dummyModel(sample, t);
      const { prevSample, predOriginalSample } = scheduler.step(residual, t, sample);
      tf.dispose([residual, predOriginalSample, sample]);
      sample = prevSample;
    }
    const [sum, mean] = await sumMeanAbs(sample);
    expect(Math.abs(sum - 354.5418)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.4616)).toBeLessThan(1e-3);
    tf.dispose([x0, noise, sample]);
  });
});
