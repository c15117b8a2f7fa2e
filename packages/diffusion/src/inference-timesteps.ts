import { integerAtLeast, oneOf } from './validate.js';

/**
 * How inference timesteps spread over the training range (Lin et al. 2023, table 2):
 * `leading` starts at 0 (plus `stepsOffset`), `trailing` ends at T - 1, `linspace` spans both.
 */
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = ['leading', 'trailing', 'linspace'];

/** Rounds halves to even, like `numpy.round`. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** `numInferenceSteps` timesteps, descending, as diffusers' `set_timesteps` spaces them. */
export function inferenceTimesteps(
  numTrainTimesteps: number,
  numInferenceSteps: number,
  spacing: TimestepSpacing,
  stepsOffset = 0,
): number[] {
  const T = numTrainTimesteps;
  const n = integerAtLeast('numInferenceSteps', numInferenceSteps, 1);
  if (n > T) throw new Error(`numInferenceSteps (${n}) cannot exceed numTrainTimesteps (${T})`);
  const out: number[] = [];
  switch (oneOf('timestepSpacing', spacing, TIMESTEP_SPACINGS)) {
    case 'leading': {
      const ratio = Math.floor(T / n);
      for (let i = n - 1; i >= 0; i--) out.push(i * ratio + stepsOffset);
      break;
    }
    case 'trailing': {
      // diffusers uses np.arange(T, 0, -T / n), which yields n + 1 values (the last -1) for some n.
      const ratio = T / n;
      for (let i = 0; i < n; i++) out.push(roundHalfEven(T - i * ratio) - 1);
      break;
    }
    case 'linspace': {
      const step = n === 1 ? 0 : (T - 1) / (n - 1);
      for (let i = n - 1; i >= 0; i--) out.push(i === n - 1 && n > 1 ? T - 1 : roundHalfEven(i * step));
      break;
    }
  }
  return out;
}
