import { TorchGenerator } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { DDPMScheduler, type DDPMSchedulerConfig, sample } from '../src/index.js';
import { dummyModel, dummySample, SAMPLE_SHAPE, sumMeanAbs } from './dummy-inputs.js';

// Numbers from diffusers' DDPM scheduler tests (../shared/conformance/README.md); the noise of
// each step with t > 0 is one torch.randn of the sample's shape from torch.manual_seed(0).
const base: DDPMSchedulerConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
  varianceType: 'fixed_small',
  clipSample: true,
};

describe('DDPMScheduler conformance with diffusers', () => {
  it.each([
    [0, 0],
    [487, 0.00979],
    [999, 0.02],
  ])('fixed_small variance at t=%i is %f', (t, expected) => {
    expect(Math.abs(new DDPMScheduler(base).getVariance(t) - expected)).toBeLessThan(1e-5);
  });

  it('1000-step loop, epsilon prediction, through sample()', async () => {
    const before = tf.memory().numTensors;
    const scheduler = new DDPMScheduler(base);
    const x = dummySample();
    const result = await sample({
      scheduler,
      model: (xt, t) => dummyModel(xt, t),
      shape: SAMPLE_SHAPE,
      generator: new TorchGenerator(0),
      cond: null,
      initialNoise: x,
    });
    const [sum, mean] = await sumMeanAbs(result);
    expect(Math.abs(sum - 258.9606)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.3372)).toBeLessThan(1e-3);
    tf.dispose([x, result]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('1000-step loop, v prediction, by hand', async () => {
    const scheduler = new DDPMScheduler({ ...base, predictionType: 'v_prediction' });
    const generator = new TorchGenerator(0);
    let x = dummySample();
    for (const t of scheduler.timesteps) {
      const residual = dummyModel(x, t);
      const { prevSample, predOriginalSample } = scheduler.step(residual, t, x, { generator });
      tf.dispose([residual, predOriginalSample, x]);
      x = prevSample;
    }
    const [sum, mean] = await sumMeanAbs(x);
    expect(Math.abs(sum - 202.0296)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.2631)).toBeLessThan(1e-3);
    x.dispose();
  });
});
