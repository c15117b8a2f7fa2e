export interface GradientSample {
  /** Where the entry is, for the error message. */
  where: string;
  analytic: number;
  numeric: number;
}

export interface WorstSample extends GradientSample {
  error: number;
}

/**
 * The sample with the largest |analytic - numeric| / max(|analytic|, |numeric|, floor'), where
 * floor' = max(floor, relativeFloor * the largest gradient entry among all samples). The floor keeps
 * entries whose gradient is near zero (a whole tensor's, even) from turning float32 rounding noise,
 * which scales with the loss rather than with the entry, into a huge relative error.
 */
export function worstRelativeError(
  samples: GradientSample[],
  floor: number,
  relativeFloor: number,
): WorstSample {
  let scale = 0;
  for (const { analytic, numeric } of samples) scale = Math.max(scale, Math.abs(analytic), Math.abs(numeric));
  const denominatorFloor = Math.max(floor, relativeFloor * scale);
  let worst: WorstSample = { where: 'nowhere', analytic: 0, numeric: 0, error: 0 };
  for (const sample of samples) {
    const { analytic, numeric } = sample;
    const difference = Math.abs(analytic - numeric);
    const error =
      difference === 0 ? 0 : difference / Math.max(Math.abs(analytic), Math.abs(numeric), denominatorFloor);
    // NaN counts as the worst
    if (!(error <= worst.error)) worst = { ...sample, error };
  }
  return worst;
}
