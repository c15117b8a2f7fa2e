import {
  type BetaScheduleConfig,
  makeBetas,
  type ResolvedBetaScheduleConfig,
  resolveBetaScheduleConfig,
} from './beta-schedule.js';
import { oneOf } from './validate.js';

/**
 * `float64` keeps every constant in double precision (DALLE2-pytorch); `float32` rounds the
 * betas and the cumulative products to float32 as diffusers stores them (the products are still
 * accumulated in double, like `torch.cumprod` on the CPU). With the cosine schedule's betas near
 * 1, the difference shows in a 1000-step loop.
 */
export type SchedulePrecision = 'float32' | 'float64';

export const SCHEDULE_PRECISIONS: readonly SchedulePrecision[] = ['float32', 'float64'];

/** A beta schedule and the precision its constants are kept in; plain JSON. */
export interface NoiseScheduleConfig extends BetaScheduleConfig {
  /** Default `'float64'` here; the schedulers default to `'float32'`, as diffusers. */
  precision?: SchedulePrecision;
}

export type ResolvedNoiseScheduleConfig = ResolvedBetaScheduleConfig & { precision: SchedulePrecision };

/**
 * A diffusion process's per-timestep constants, as JS numbers indexed by training timestep:
 * q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I) with abar_t = prod_{s<=t} (1 - beta_s).
 */
export class NoiseSchedule {
  readonly config: ResolvedNoiseScheduleConfig;
  readonly numTrainTimesteps: number;
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  /** abar_t. */
  readonly alphasCumprod: Float64Array;
  /** abar_{t-1}, with abar_{-1} = 1. */
  readonly alphasCumprodPrev: Float64Array;
  readonly sqrtAlphasCumprod: Float64Array;
  readonly sqrtOneMinusAlphasCumprod: Float64Array;
  /** Variance of q(x_{t-1} | x_t, x_0): beta_t (1 - abar_{t-1}) / (1 - abar_t). */
  readonly posteriorVariance: Float64Array;

  constructor(config: NoiseScheduleConfig = {}) {
    this.config = {
      ...resolveBetaScheduleConfig(config),
      precision: oneOf('precision', config.precision ?? 'float64', SCHEDULE_PRECISIONS),
    };
    const T = this.config.numTrainTimesteps;
    const round = this.config.precision === 'float32' ? Math.fround : (x: number) => x;
    this.numTrainTimesteps = T;
    this.betas = makeBetas(this.config).map(round);
    this.alphas = this.betas.map((b) => round(1 - b));
    this.alphasCumprod = new Float64Array(T);
    this.alphasCumprodPrev = new Float64Array(T);
    let product = 1;
    for (let t = 0; t < T; t++) {
      this.alphasCumprodPrev[t] = t === 0 ? 1 : (this.alphasCumprod[t - 1] as number);
      product *= this.alphas[t] as number;
      this.alphasCumprod[t] = round(product);
    }
    this.sqrtAlphasCumprod = this.alphasCumprod.map(Math.sqrt);
    this.sqrtOneMinusAlphasCumprod = this.alphasCumprod.map((a) => Math.sqrt(1 - a));
    this.posteriorVariance = this.betas.map(
      (b, t) => (b * (1 - (this.alphasCumprodPrev[t] as number))) / (1 - (this.alphasCumprod[t] as number)),
    );
  }

  /** abar_t, with abar_t = 1 for t < 0 (before any noise). */
  alphaCumprod(t: number): number {
    if (t < 0) return 1;
    const value = this.alphasCumprod[t];
    if (value === undefined || !Number.isInteger(t)) {
      throw new Error(`timestep ${t} is not an integer in [0, ${this.numTrainTimesteps})`);
    }
    return value;
  }

  /** Signal-to-noise ratio abar_t / (1 - abar_t). */
  snr(t: number): number {
    const a = this.alphaCumprod(t);
    return a / (1 - a);
  }
}
