import { TorchGenerator } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  DDIMScheduler,
  DDPMScheduler,
  type DDPMVarianceType,
  dynamicThreshold,
  getTarget,
  type Scheduler,
  UnCLIPScheduler,
} from '../src/index.js';

const SHAPE = [2, 4, 4, 3]; // NHWC

function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), scale));
}

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.max(tf.abs(tf.sub(a, b)));
  const value = (await d.data())[0] as number;
  d.dispose();
  return value;
}

describe('DDPMScheduler', () => {
  const x0 = randomTensor(SHAPE, 1, 0.5);
  const xt = randomTensor(SHAPE, 2);
  const noise = randomTensor(SHAPE, 3);

  it.each<[DDPMVarianceType, (s: DDPMScheduler, t: number) => number]>([
    ['fixed_small', (s, t) => Math.sqrt(s.schedule.posteriorVariance[t] as number)],
    ['fixed_small_log', (s, t) => Math.sqrt(s.schedule.posteriorVariance[t] as number)],
    ['fixed_large', (s, t) => Math.sqrt(s.schedule.betas[t] as number)],
  ])('%s adds the posterior mean plus std * noise', async (varianceType, std) => {
    const scheduler = new DDPMScheduler({ varianceType, predictionType: 'sample', clipSample: false });
    const t = 500;
    const before = tf.memory().numTensors;
    const { prevSample, predOriginalSample } = scheduler.step(x0, t, xt, { noise });
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(predOriginalSample).not.toBe(x0);
    const s = scheduler.schedule;
    const aPrev = s.alphasCumprod[t - 1] as number;
    const a = s.alphasCumprod[t] as number;
    const beta = s.betas[t] as number;
    const expected = tf.tidy(() =>
      tf.addN([
        tf.mul(x0, (Math.sqrt(aPrev) * beta) / (1 - a)),
        tf.mul(xt, (Math.sqrt(1 - beta) * (1 - aPrev)) / (1 - a)),
        tf.mul(noise, std(scheduler, t)),
      ]),
    );
    expect(await maxAbsDiff(prevSample, expected)).toBeLessThan(1e-5);
    tf.dispose([prevSample, predOriginalSample, expected]);
  });

  it('learned_range interpolates the log variance between the posterior variance and beta', async () => {
    const scheduler = new DDPMScheduler({
      varianceType: 'learned_range',
      predictionType: 'sample',
      clipSample: false,
    });
    const fixed = new DDPMScheduler({
      varianceType: 'fixed_small',
      predictionType: 'sample',
      clipSample: false,
    });
    const large = new DDPMScheduler({
      varianceType: 'fixed_large',
      predictionType: 'sample',
      clipSample: false,
    });
    for (const [v, reference] of [
      [-1, fixed],
      [1, large],
    ] as const) {
      const output = tf.tidy(() => tf.concat([x0, tf.fill(SHAPE, v)], 3)); // [2, 4, 4, 6]
      const got = scheduler.step(output, 300, xt, { noise });
      const want = reference.step(x0, 300, xt, { noise });
      expect(await maxAbsDiff(got.prevSample, want.prevSample)).toBeLessThan(1e-5);
      tf.dispose([output, got.prevSample, got.predOriginalSample, want.prevSample, want.predOriginalSample]);
    }
    expect(() => scheduler.step(x0, 300, xt, { noise })).toThrow(/twice the channels/);
  });

  it('gives the same step for consistent epsilon, sample and v predictions', async () => {
    const t = 250;
    const config = { clipSample: false } as const;
    const noisy = new DDPMScheduler(config).addNoise(x0, noise, [t, t]);
    const results: tf.Tensor[] = [];
    for (const predictionType of ['epsilon', 'sample', 'v_prediction'] as const) {
      const scheduler = new DDPMScheduler({ ...config, predictionType });
      const target = getTarget(scheduler.schedule, predictionType, x0, noise, t);
      const { prevSample, predOriginalSample } = scheduler.step(target, t, noisy, { noise: xt });
      expect(await maxAbsDiff(predOriginalSample, x0)).toBeLessThan(1e-4);
      results.push(prevSample);
      tf.dispose([target, predOriginalSample]);
    }
    expect(await maxAbsDiff(results[0] as tf.Tensor, results[1] as tf.Tensor)).toBeLessThan(1e-4);
    expect(await maxAbsDiff(results[0] as tf.Tensor, results[2] as tf.Tensor)).toBeLessThan(1e-4);
    tf.dispose([noisy, ...results]);
  });

  it('adds no noise at t = 0', async () => {
    const scheduler = new DDPMScheduler({ predictionType: 'sample', clipSample: false });
    const { prevSample, predOriginalSample } = scheduler.step(x0, 0, xt, { noise });
    expect(await maxAbsDiff(prevSample, x0)).toBeLessThan(1e-6);
    tf.dispose([prevSample, predOriginalSample]);
  });

  it('clips or dynamically thresholds the predicted x0', async () => {
    const big = randomTensor(SHAPE, 4, 3);
    const clipped = new DDPMScheduler({ predictionType: 'sample' }).step(big, 10, xt, { noise });
    const largest = tf.max(tf.abs(clipped.predOriginalSample));
    expect((await largest.data())[0]).toBeLessThanOrEqual(1);
    largest.dispose();
    const config = {
      predictionType: 'sample',
      thresholding: true,
      dynamicThresholdingRatio: 0.9,
      sampleMaxValue: 2,
    } as const;
    const thresholded = new DDPMScheduler(config).step(big, 10, xt, { noise });
    const expected = dynamicThreshold(big, { ratio: 0.9, maxValue: 2 });
    expect(await maxAbsDiff(thresholded.predOriginalSample, expected)).toBe(0);
    tf.dispose([
      big,
      clipped.prevSample,
      clipped.predOriginalSample,
      thresholded.prevSample,
      thresholded.predOriginalSample,
      expected,
    ]);
  });

  it('steps between the timesteps set, and draws noise from the generator', async () => {
    const scheduler = new DDPMScheduler();
    expect(scheduler.timesteps.length).toBe(1000);
    scheduler.setTimesteps(10);
    expect(scheduler.timesteps).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    expect(scheduler.previousTimestep(900)).toBe(800);
    expect(scheduler.previousTimestep(0)).toBe(-1);
    expect(() => scheduler.step(x0, 950, xt)).toThrow(/not one of the scheduler's timesteps/);
    const a = scheduler.step(x0, 900, xt, { generator: new TorchGenerator(9) });
    const b = scheduler.step(x0, 900, xt, { noise: new TorchGenerator(9).randnTensor(SHAPE) });
    expect(await maxAbsDiff(a.prevSample, b.prevSample)).toBe(0);
    tf.dispose([a.prevSample, a.predOriginalSample, b.prevSample, b.predOriginalSample]);
  });

  it('validates its config once and round-trips it through JSON', () => {
    expect(() => new DDPMScheduler({ varianceType: 'learned' as never })).toThrow(
      "varianceType must be one of 'fixed_small', 'fixed_small_log', 'fixed_large', 'learned_range'; got \"learned\"",
    );
    expect(() => new DDPMScheduler({ predictionType: 'x0' as never })).toThrow(
      /'epsilon', 'sample', 'v_prediction'/,
    );
    const scheduler = new DDPMScheduler({
      betaSchedule: 'cosine',
      varianceType: 'fixed_large',
      stepsOffset: 1,
    });
    const copy = new DDPMScheduler(JSON.parse(JSON.stringify(scheduler.config)));
    expect(copy.config).toEqual(scheduler.config);
    expect(copy.schedule.alphasCumprod).toEqual(scheduler.schedule.alphasCumprod);
  });
});

describe('DDIMScheduler', () => {
  const x0 = randomTensor(SHAPE, 11, 0.5);
  const noise = randomTensor(SHAPE, 12);
  const stepNoise = randomTensor(SHAPE, 13);

  it('with eta adds eta * sigma_t * noise and shrinks the direction term', async () => {
    const scheduler = new DDIMScheduler({ clipSample: false, eta: 0.7 });
    scheduler.setTimesteps(20);
    const t = 500;
    const prevT = 450;
    const xt = scheduler.addNoise(x0, noise, t);
    const { prevSample, predOriginalSample } = scheduler.step(noise, t, xt, { noise: stepNoise });
    const s = scheduler.schedule;
    const aPrev = s.alphasCumprod[prevT] as number;
    const std = 0.7 * Math.sqrt(scheduler.getVariance(t, prevT));
    const expected = tf.tidy(() =>
      tf.addN([
        tf.mul(x0, Math.sqrt(aPrev)),
        tf.mul(noise, Math.sqrt(1 - aPrev - std * std)),
        tf.mul(stepNoise, std),
      ]),
    );
    expect(await maxAbsDiff(predOriginalSample, x0)).toBeLessThan(1e-5);
    expect(await maxAbsDiff(prevSample, expected)).toBeLessThan(1e-5);
    const deterministic = scheduler.step(noise, t, xt, { eta: 0 });
    const expected0 = tf.tidy(() =>
      tf.add(tf.mul(x0, Math.sqrt(aPrev)), tf.mul(noise, Math.sqrt(1 - aPrev))),
    );
    expect(await maxAbsDiff(deterministic.prevSample, expected0)).toBeLessThan(1e-5);
    tf.dispose([
      xt,
      prevSample,
      predOriginalSample,
      expected,
      deterministic.prevSample,
      deterministic.predOriginalSample,
      expected0,
    ]);
  });

  it('gives the same step for consistent epsilon, sample and v predictions', async () => {
    const results: tf.Tensor[] = [];
    for (const predictionType of ['epsilon', 'sample', 'v_prediction'] as const) {
      const scheduler = new DDIMScheduler({ clipSample: false, predictionType });
      scheduler.setTimesteps(10);
      const xt = scheduler.addNoise(x0, noise, 700);
      const target = getTarget(scheduler.schedule, predictionType, x0, noise, 700);
      const { prevSample, predOriginalSample } = scheduler.step(target, 700, xt);
      results.push(prevSample);
      tf.dispose([xt, target, predOriginalSample]);
    }
    expect(await maxAbsDiff(results[0] as tf.Tensor, results[1] as tf.Tensor)).toBeLessThan(1e-4);
    expect(await maxAbsDiff(results[0] as tf.Tensor, results[2] as tf.Tensor)).toBeLessThan(1e-4);
    tf.dispose(results);
  });

  it('spaces timesteps as configured and needs setTimesteps before step', () => {
    const scheduler = new DDIMScheduler({ timestepSpacing: 'trailing' });
    expect(() => scheduler.step(x0, 999, noise)).toThrow(/setTimesteps/);
    scheduler.setTimesteps(4);
    expect(scheduler.timesteps).toEqual([999, 749, 499, 249]);
    expect(() => new DDIMScheduler({ timestepSpacing: 'even' as never })).toThrow(
      /'leading', 'trailing', 'linspace'/,
    );
    expect(() => new DDIMScheduler({ eta: -1 })).toThrow(/eta/);
  });
});

describe('UnCLIPScheduler', () => {
  const x0 = randomTensor(SHAPE, 21, 0.5);
  const xt = randomTensor(SHAPE, 22);
  const noise = randomTensor(SHAPE, 23);

  it('steps to a custom prevTimestep with beta = 1 - abar_t / abar_prev', async () => {
    const scheduler = new UnCLIPScheduler({ predictionType: 'sample', clipSample: false });
    const { prevSample, predOriginalSample } = scheduler.step(x0, 600, xt, { noise, prevTimestep: 400 });
    const s = scheduler.schedule;
    const a = s.alphasCumprod[600] as number;
    const aPrev = s.alphasCumprod[400] as number;
    const beta = 1 - a / aPrev;
    const variance = ((1 - aPrev) / (1 - a)) * beta;
    const expected = tf.tidy(() =>
      tf.addN([
        tf.mul(x0, (Math.sqrt(aPrev) * beta) / (1 - a)),
        tf.mul(xt, (Math.sqrt(1 - beta) * (1 - aPrev)) / (1 - a)),
        tf.mul(noise, Math.sqrt(variance)),
      ]),
    );
    expect(await maxAbsDiff(prevSample, expected)).toBeLessThan(1e-5);
    expect(() => scheduler.step(x0, 400, xt, { prevTimestep: 400 })).toThrow(/below 400/);
    tf.dispose([prevSample, predOriginalSample, expected]);
  });

  it('defaults to the next of its timesteps, and supports learned_range', async () => {
    const scheduler = new UnCLIPScheduler({
      varianceType: 'learned_range',
      clipSample: false,
      predictionType: 'sample',
    });
    scheduler.setTimesteps(5);
    expect(scheduler.timesteps).toEqual([999, 749, 500, 250, 0]);
    const output = tf.tidy(() => tf.concat([x0, tf.fill(SHAPE, -1)], 3));
    const fixed = new UnCLIPScheduler({ clipSample: false, predictionType: 'sample' });
    const got = scheduler.step(output, 749, xt, { noise });
    const want = fixed.step(x0, 749, xt, { noise, prevTimestep: 500 });
    expect(await maxAbsDiff(got.prevSample, want.prevSample)).toBeLessThan(1e-5);
    tf.dispose([output, got.prevSample, got.predOriginalSample, want.prevSample, want.predOriginalSample]);
  });

  it('accepts only the cosine schedule', () => {
    expect(() => new UnCLIPScheduler({ betaSchedule: 'linear' as never })).toThrow(
      'betaSchedule must be one of \'squaredcos_cap_v2\'; got "linear"',
    );
  });
});

describe('a shared surface', () => {
  it('every scheduler has setTimesteps, timesteps, step, addNoise and a JSON config', () => {
    const schedulers: Scheduler[] = [new DDPMScheduler(), new DDIMScheduler(), new UnCLIPScheduler()];
    for (const scheduler of schedulers) {
      scheduler.setTimesteps(4);
      expect(scheduler.timesteps).toHaveLength(4);
      expect(scheduler.initNoiseSigma).toBe(1);
      expect(JSON.parse(JSON.stringify(scheduler.config))).toEqual(scheduler.config);
    }
  });
});
