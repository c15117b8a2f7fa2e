import { TorchGenerator } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { UnCLIPScheduler } from '../src/index.js';
import { learnedStd } from '../src/scheduler-step.js';
import { dummyModel, dummySample, sumMeanAbs } from './dummy-inputs.js';

// Numbers from diffusers' tests/schedulers/test_scheduler_unclip.py (not in the shared README).
const config = { numTrainTimesteps: 1000, varianceType: 'fixed_small_log', clipSample: true } as const;

async function loop(scheduler: UnCLIPScheduler): Promise<[number, number]> {
  const generator = new TorchGenerator(0);
  let x = dummySample();
  for (const t of scheduler.timesteps) {
    const residual = dummyModel(x, t);
    const { prevSample, predOriginalSample } = scheduler.step(residual, t, x, { generator });
    tf.dispose([residual, predOriginalSample, x]);
    x = prevSample;
  }
  const result = await sumMeanAbs(x);
  x.dispose();
  return result;
}

describe('UnCLIPScheduler conformance with diffusers', () => {
  it('fixed_small_log standard deviation at t = 0, 487, 999', () => {
    const scheduler = new UnCLIPScheduler(config);
    expect(Math.abs(scheduler.getVariance(0) - 1e-10)).toBeLessThan(1e-5);
    expect(Math.abs(scheduler.getVariance(487) - 0.0549625)).toBeLessThan(1e-5);
    expect(Math.abs(scheduler.getVariance(999) - 0.9994987)).toBeLessThan(1e-5);
  });

  it('learned_range log variance for a predicted value of 0.5', async () => {
    const scheduler = new UnCLIPScheduler({ ...config, varianceType: 'learned_range' });
    const schedule = scheduler.schedule;
    const cases: [number, number][] = [
      [1, -10.171279],
      [487, -5.7998052],
      [999, -0.0010011],
    ];
    for (const [t, expected] of cases) {
      const large = schedule.betas[t] as number;
      const small = ((1 - schedule.alphaCumprod(t - 1)) / (1 - schedule.alphaCumprod(t))) * large;
      const std = learnedStd(tf.scalar(0.5), small, large);
      const logVariance = 2 * Math.log((await std.data())[0] as number);
      expect(Math.abs(logVariance - expected)).toBeLessThan(1e-4);
      std.dispose();
    }
  });

  it('full loop over all 1000 timesteps', async () => {
    const [sum, mean] = await loop(new UnCLIPScheduler(config));
    expect(Math.abs(sum - 252.2682495)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.3284743)).toBeLessThan(1e-3);
  });

  it('full loop over 25 timesteps, stepping to the next of them', async () => {
    const scheduler = new UnCLIPScheduler(config);
    scheduler.setTimesteps(25);
    expect(scheduler.timesteps.length).toBe(25);
    expect(scheduler.timesteps[0]).toBe(999);
    expect(scheduler.timesteps.at(-1)).toBe(0);
    const [sum, mean] = await loop(scheduler);
    expect(Math.abs(sum - 258.2044983)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.3362038)).toBeLessThan(1e-3);
  });
});
