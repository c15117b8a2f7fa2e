export interface WarmupCosineScheduleConfig {
  baseLr: number;
  warmupSteps: number;
  /** null = constant `baseLr` after the warm-up. */
  totalSteps: number | null;
  /** Default 0. */
  minLr?: number;
}

/**
 * Linear warm-up from 0 to `baseLr` over `warmupSteps`, then a half cosine down to `minLr` at
 * `totalSteps`, and `minLr` after that (or `baseLr` for good with `totalSteps` null). With minLr 0
 * this is transformers' `get_cosine_schedule_with_warmup` (so step 0 has lr 0).
 */
export function warmupCosineSchedule(config: WarmupCosineScheduleConfig): (step: number) => number {
  const { baseLr, warmupSteps, totalSteps, minLr = 0 } = config;
  if (!(baseLr >= 0)) throw new Error(`warmupCosineSchedule: baseLr must be >= 0, got ${baseLr}`);
  if (!(minLr >= 0 && minLr <= baseLr)) {
    throw new Error(`warmupCosineSchedule: minLr must be in [0, baseLr = ${baseLr}], got ${minLr}`);
  }
  if (!(Number.isInteger(warmupSteps) && warmupSteps >= 0)) {
    throw new Error(`warmupCosineSchedule: warmupSteps must be a non-negative integer, got ${warmupSteps}`);
  }
  if (totalSteps !== null && !(Number.isInteger(totalSteps) && totalSteps >= warmupSteps)) {
    throw new Error(
      `warmupCosineSchedule: totalSteps must be null or an integer >= warmupSteps, got ${totalSteps}`,
    );
  }
  return (step: number) => {
    if (!(step >= 0)) throw new Error(`warmupCosineSchedule: step must be >= 0, got ${step}`);
    if (step < warmupSteps) return (baseLr * step) / warmupSteps;
    if (totalSteps === null) return baseLr;
    const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
    return minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}
