import { describe, expect, test } from 'vitest';
import { warmupCosineSchedule } from '../src/train/index.js';

describe('warmupCosineSchedule', () => {
  const lr = warmupCosineSchedule({ baseLr: 1e-3, warmupSteps: 10, totalSteps: 110 });

  test('warms up linearly from 0', () => {
    expect(lr(0)).toBe(0);
    expect(lr(5)).toBeCloseTo(5e-4, 15);
    expect(lr(9)).toBeCloseTo(9e-4, 15);
  });

  test('follows a half cosine down to 0 and stays there', () => {
    expect(lr(10)).toBeCloseTo(1e-3, 15);
    expect(lr(35)).toBeCloseTo(1e-3 * 0.5 * (1 + Math.cos(Math.PI / 4)), 15);
    expect(lr(60)).toBeCloseTo(5e-4, 15);
    expect(lr(110)).toBeCloseTo(0, 15);
    expect(lr(500)).toBeCloseTo(0, 15);
  });

  test('decays to minLr when given', () => {
    const withMin = warmupCosineSchedule({ baseLr: 1, warmupSteps: 0, totalSteps: 100, minLr: 0.1 });
    expect(withMin(0)).toBe(1);
    expect(withMin(50)).toBeCloseTo(0.55, 12);
    expect(withMin(100)).toBeCloseTo(0.1, 12);
    expect(withMin(1000)).toBeCloseTo(0.1, 12);
  });

  test('stays at baseLr after the warm-up when totalSteps is null', () => {
    const constant = warmupCosineSchedule({ baseLr: 2, warmupSteps: 4, totalSteps: null });
    expect([0, 1, 2, 3].map(constant)).toEqual([0, 0.5, 1, 1.5]);
    expect([4, 5, 1e6].map(constant)).toEqual([2, 2, 2]);
  });

  test('validates its config', () => {
    expect(() => warmupCosineSchedule({ baseLr: 1, warmupSteps: 10, totalSteps: 5 })).toThrow(/totalSteps/);
    expect(() => warmupCosineSchedule({ baseLr: 1, warmupSteps: 0, totalSteps: 5, minLr: 2 })).toThrow(
      /minLr/,
    );
    expect(() => lr(-1)).toThrow(/step must be >= 0/);
  });
});
