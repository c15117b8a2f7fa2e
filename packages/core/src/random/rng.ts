/** The source of randomness that initialisers and samplers draw from. */
export interface Rng {
  /** `n` standard normal draws. */
  normal(n: number): Float32Array;
  /** `n` uniform draws in [0, 1). */
  uniform(n: number): Float32Array;
}
