import { describe, expect, it } from 'vitest';
import { inferenceTimesteps } from '../src/index.js';

describe('inferenceTimesteps', () => {
  it('leading: multiples of T // n from 0, plus the offset', () => {
    expect(inferenceTimesteps(1000, 10, 'leading')).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    expect(inferenceTimesteps(1000, 5, 'leading', 1)).toEqual([801, 601, 401, 201, 1]);
    expect(inferenceTimesteps(1000, 3, 'leading')).toEqual([666, 333, 0]);
  });

  it('trailing: from T - 1 down in steps of T / n', () => {
    expect(inferenceTimesteps(1000, 10, 'trailing')).toEqual([
      999, 899, 799, 699, 599, 499, 399, 299, 199, 99,
    ]);
    expect(inferenceTimesteps(1000, 3, 'trailing')).toEqual([999, 666, 332]);
    // numpy.arange would give 62 values here, the last -1; we keep n.
    expect(inferenceTimesteps(1000, 61, 'trailing')).toHaveLength(61);
    expect(Math.min(...inferenceTimesteps(1000, 61, 'trailing'))).toBeGreaterThanOrEqual(0);
  });

  it('linspace: from T - 1 to 0, rounding halves to even like numpy', () => {
    expect(inferenceTimesteps(1000, 7, 'linspace')).toEqual([999, 832, 666, 500, 333, 166, 0]);
    expect(inferenceTimesteps(1000, 1, 'linspace')).toEqual([0]);
  });

  it('rejects bad counts and spacings, naming the valid ones', () => {
    expect(() => inferenceTimesteps(1000, 0, 'leading')).toThrow(/integer >= 1/);
    expect(() => inferenceTimesteps(100, 101, 'leading')).toThrow(/cannot exceed/);
    expect(() => inferenceTimesteps(100, 10, 'uniform' as never)).toThrow(
      /'leading', 'trailing', 'linspace'/,
    );
  });
});
