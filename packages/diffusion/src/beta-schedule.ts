import { bool, integerAtLeast, numberIn, oneOf } from './validate.js';

/**
 * How betas grow over the training timesteps. `squaredcos_cap_v2` (alias `cosine`) is the
 * improved-DDPM cosine schedule; `quadratic` and `scaled_linear` are the same curve (linear in
 * sqrt(beta)) under DALLE2-pytorch's and diffusers' names.
 */
export type BetaScheduleKind =
  | 'linear'
  | 'scaled_linear'
  | 'quadratic'
  | 'sigmoid'
  | 'squaredcos_cap_v2'
  | 'cosine';

export const BETA_SCHEDULES: readonly BetaScheduleKind[] = [
  'linear',
  'scaled_linear',
  'quadratic',
  'sigmoid',
  'squaredcos_cap_v2',
  'cosine',
];

/** A beta schedule; plain JSON. */
export interface BetaScheduleConfig {
  /** Default `'linear'`. */
  betaSchedule?: BetaScheduleKind;
  /** Number of training timesteps T. Default 1000. */
  numTrainTimesteps?: number;
  /** First beta of the start/end schedules. Default 0.0001. */
  betaStart?: number;
  /** Last beta of the start/end schedules. Default 0.02. */
  betaEnd?: number;
  /**
   * DALLE2-pytorch's convention: multiply `betaStart` and `betaEnd` by 1000 / T, so that a
   * short schedule adds as much noise in total (T = 100 gives 0.001 .. 0.2). Ignored by the
   * cosine schedule. Default false.
   */
  rescaleBetasToTimesteps?: boolean;
  /** Cap on the cosine schedule's betas. Default 0.999. */
  maxBeta?: number;
  /** Explicit betas (length T), overriding the schedule. */
  trainedBetas?: readonly number[] | null;
}

export type ResolvedBetaScheduleConfig = Required<BetaScheduleConfig>;

/** Fills in defaults and validates once; errors list the valid values. */
export function resolveBetaScheduleConfig(config: BetaScheduleConfig = {}): ResolvedBetaScheduleConfig {
  const trainedBetas = config.trainedBetas ?? null;
  const numTrainTimesteps = integerAtLeast(
    'numTrainTimesteps',
    config.numTrainTimesteps ?? trainedBetas?.length ?? 1000,
    1,
  );
  if (trainedBetas) {
    if (trainedBetas.length !== numTrainTimesteps) {
      throw new Error(`trainedBetas has ${trainedBetas.length} values for ${numTrainTimesteps} timesteps`);
    }
    for (const [i, b] of trainedBetas.entries()) numberIn(`trainedBetas[${i}]`, b, 0, 1);
  }
  return {
    betaSchedule: oneOf('betaSchedule', config.betaSchedule ?? 'linear', BETA_SCHEDULES),
    numTrainTimesteps,
    betaStart: numberIn('betaStart', config.betaStart ?? 0.0001, 0, 1),
    betaEnd: numberIn('betaEnd', config.betaEnd ?? 0.02, 0, 1),
    rescaleBetasToTimesteps: bool('rescaleBetasToTimesteps', config.rescaleBetasToTimesteps ?? false),
    maxBeta: numberIn('maxBeta', config.maxBeta ?? 0.999, 0, 1),
    trainedBetas,
  };
}

/** `n` evenly spaced values from `start` to `stop` inclusive, like `torch.linspace` in float64. */
function linspace(start: number, stop: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  out[n - 1] = stop;
  return out;
}

/** The improved-DDPM cosine schedule: beta_i = 1 - abar((i+1)/T) / abar(i/T), capped at `maxBeta`. */
function cosineBetas(numTrainTimesteps: number, maxBeta: number): Float64Array {
  const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const betas = new Float64Array(numTrainTimesteps);
  for (let i = 0; i < numTrainTimesteps; i++) {
    const ratio = alphaBar((i + 1) / numTrainTimesteps) / alphaBar(i / numTrainTimesteps);
    betas[i] = Math.min(1 - ratio, maxBeta);
  }
  return betas;
}

/** The betas of a schedule, in float64 (length T); each must lie in [0, 1). */
export function makeBetas(config: BetaScheduleConfig = {}): Float64Array {
  const betas = scheduleBetas(resolveBetaScheduleConfig(config));
  const bad = betas.findIndex((b) => !(b >= 0 && b < 1));
  if (bad >= 0) {
    throw new Error(`beta ${bad} is ${betas[bad]}, outside [0, 1): lower betaEnd or use more timesteps`);
  }
  return betas;
}

function scheduleBetas(c: ResolvedBetaScheduleConfig): Float64Array {
  const T = c.numTrainTimesteps;
  if (c.trainedBetas) return Float64Array.from(c.trainedBetas);
  const scale = c.rescaleBetasToTimesteps ? 1000 / T : 1;
  const start = c.betaStart * scale;
  const end = c.betaEnd * scale;
  switch (c.betaSchedule) {
    case 'linear':
      return linspace(start, end, T);
    case 'scaled_linear':
    case 'quadratic':
      return linspace(Math.sqrt(start), Math.sqrt(end), T).map((x) => x * x);
    case 'sigmoid':
      return linspace(-6, 6, T).map((x) => (1 / (1 + Math.exp(-x))) * (end - start) + start);
    case 'squaredcos_cap_v2':
    case 'cosine':
      return cosineBetas(T, c.maxBeta);
  }
}
