/**
 * |a - b| / max(|a|, |b|, floor). The floor keeps entries whose gradient is near zero from turning
 * float32 rounding noise into a huge relative error.
 */
export function relativeError(a: number, b: number, floor: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), floor);
}
