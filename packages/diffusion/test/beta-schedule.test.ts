import { describe, expect, it } from 'vitest';
import { type BetaScheduleConfig, makeBetas, NoiseSchedule } from '../src/index.js';

function ends(config: BetaScheduleConfig): [number, number] {
  const betas = makeBetas(config);
  return [betas[0] as number, betas.at(-1) as number];
}

describe('makeBetas', () => {
  it.each<[BetaScheduleConfig, number, number]>([
    [{ betaSchedule: 'linear' }, 0.0001, 0.02],
    [{ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012 }, 0.00085, 0.012],
    [{ betaSchedule: 'quadratic' }, 0.0001, 0.02],
    // sigmoid(-6) and sigmoid(6) scaled into [betaStart, betaEnd]
    [{ betaSchedule: 'sigmoid' }, 0.00014920520081703202, 0.01995079479918297],
    // 1 - abar(1/T) / abar(0) with abar(t) = cos((t + 0.008) / 1.008 * pi / 2)^2; the last is capped
    [{ betaSchedule: 'squaredcos_cap_v2' }, 4.128422482196914e-5, 0.999],
    [{ betaSchedule: 'cosine', numTrainTimesteps: 100 }, 0.0006312815983416931, 0.999],
  ])('%j starts at %f and ends at %f', (config, first, last) => {
    const [a, b] = ends(config);
    expect(a).toBeCloseTo(first, 15);
    expect(b).toBeCloseTo(last, 15);
    expect(makeBetas(config).length).toBe(config.numTrainTimesteps ?? 1000);
  });

  it('is linear, or linear in sqrt(beta), in between', () => {
    const linear = makeBetas({ numTrainTimesteps: 11, betaStart: 0, betaEnd: 0.01 });
    expect(linear[5]).toBeCloseTo(0.005, 15);
    const quadratic = makeBetas({
      betaSchedule: 'quadratic',
      numTrainTimesteps: 3,
      betaStart: 0.01,
      betaEnd: 0.09,
    });
    expect(quadratic[1]).toBeCloseTo(0.04, 15); // ((0.1 + 0.3) / 2)^2
    expect(makeBetas({ betaSchedule: 'scaled_linear' })).toEqual(makeBetas({ betaSchedule: 'quadratic' }));
    expect(makeBetas({ betaSchedule: 'cosine' })).toEqual(makeBetas({ betaSchedule: 'squaredcos_cap_v2' }));
  });

  it('caps cosine betas at maxBeta', () => {
    const betas = makeBetas({ betaSchedule: 'cosine', maxBeta: 0.5 });
    expect(Math.max(...betas)).toBe(0.5);
    expect(betas.filter((b) => b === 0.5).length).toBeGreaterThan(1);
  });

  it.each<[BetaScheduleConfig['betaSchedule'], number, number]>([
    ['linear', 0.001, 0.2],
    ['quadratic', 0.001, 0.2],
    ['sigmoid', 0.0014920520081703201, 0.19950794799182972],
  ])('DALLE2-pytorch rescale by 1000 / T: %s at T = 100 spans %f .. %f', (betaSchedule, first, last) => {
    const [a, b] = ends({ betaSchedule, numTrainTimesteps: 100, rescaleBetasToTimesteps: true });
    expect(a).toBeCloseTo(first, 15);
    expect(b).toBeCloseTo(last, 15);
  });

  it('leaves the cosine schedule alone when rescaling', () => {
    const config = { betaSchedule: 'cosine', numTrainTimesteps: 100 } as const;
    expect(makeBetas({ ...config, rescaleBetasToTimesteps: true })).toEqual(makeBetas(config));
  });

  it('takes trained betas as they are', () => {
    expect(Array.from(makeBetas({ trainedBetas: [0.1, 0.2, 0.3] }))).toEqual([0.1, 0.2, 0.3]);
    expect(() => makeBetas({ trainedBetas: [0.1, 0.2], numTrainTimesteps: 3 })).toThrow(/2 values for 3/);
  });

  it('validates the config once, naming the valid values', () => {
    expect(() => makeBetas({ betaSchedule: 'cosin' as never })).toThrow(
      "betaSchedule must be one of 'linear', 'scaled_linear', 'quadratic', 'sigmoid', 'squaredcos_cap_v2', 'cosine'; got \"cosin\"",
    );
    expect(() => makeBetas({ numTrainTimesteps: 0 })).toThrow(/integer >= 1/);
    expect(() => makeBetas({ betaEnd: 2 })).toThrow(/betaEnd must be a number in \[0, 1\]/);
    // Rescaling 0.02 by 1000 / 10 gives betas past 1.
    expect(() => makeBetas({ numTrainTimesteps: 10, rescaleBetasToTimesteps: true })).toThrow(
      /outside \[0, 1\)/,
    );
  });
});

describe('NoiseSchedule', () => {
  it('derives the cumulative products and posterior variance in float64', () => {
    const schedule = new NoiseSchedule({ numTrainTimesteps: 4, betaStart: 0.1, betaEnd: 0.4 });
    schedule.alphas.forEach((a, i) => {
      expect(a).toBeCloseTo([0.9, 0.8, 0.7, 0.6][i] as number, 15);
    });
    const expected = [0.9, 0.9 * 0.8, 0.9 * 0.8 * 0.7, 0.9 * 0.8 * 0.7 * 0.6];
    schedule.alphasCumprod.forEach((a, i) => {
      expect(a).toBeCloseTo(expected[i] as number, 14);
    });
    expect(Array.from(schedule.alphasCumprodPrev)).toEqual([
      1,
      ...Array.from(schedule.alphasCumprod.subarray(0, 3)),
    ]);
    expect(schedule.posteriorVariance[0]).toBe(0);
    expect(schedule.posteriorVariance[2]).toBeCloseTo((0.3 * (1 - 0.72)) / (1 - 0.504), 14);
    expect(
      (schedule.sqrtAlphasCumprod[3] as number) ** 2 + (schedule.sqrtOneMinusAlphasCumprod[3] as number) ** 2,
    ).toBeCloseTo(1, 14);
    expect(schedule.snr(1)).toBeCloseTo(0.72 / 0.28, 12);
    expect(schedule.alphaCumprod(-1)).toBe(1);
    expect(() => schedule.alphaCumprod(4)).toThrow(/not an integer in \[0, 4\)/);
  });

  it('rounds betas, alphas and cumulative products to float32 on request, as diffusers stores them', () => {
    const f64 = new NoiseSchedule({ betaSchedule: 'cosine' });
    const f32 = new NoiseSchedule({ betaSchedule: 'cosine', precision: 'float32' });
    expect(f32.config.precision).toBe('float32');
    for (const key of ['betas', 'alphas', 'alphasCumprod'] as const) {
      expect(f32[key].every((v) => Math.fround(v) === v)).toBe(true);
      expect(f64[key].some((v) => Math.fround(v) !== v)).toBe(true);
    }
    expect(f32.alphas[0]).toBe(Math.fround(1 - Math.fround(f64.betas[0] as number)));
    expect(() => new NoiseSchedule({ precision: 'float16' as never })).toThrow(/'float32', 'float64'/);
  });
});
