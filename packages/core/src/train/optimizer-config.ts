/**
 * The optimisation settings every trainer of the toolkit takes (plain JSON): AdamW, an EMA of the
 * weights, gradient clipping, a warm-up and cosine learning-rate schedule and the seed of the
 * generator that draws batches and noise. Each trainer states its own defaults.
 */
export interface OptimizerConfig {
  /** Peak learning rate. */
  lr: number;
  /** AdamW betas. */
  betas: [number, number];
  /** Decoupled weight decay. */
  weightDecay: number;
  /** EMA decay of the weights (with warm-up). */
  emaDecay: number;
  /** Clip the global gradient norm to this; null = no clipping. */
  maxGradNorm: number | null;
  /** Linear warm-up from 0 over this many steps. */
  warmupSteps: number;
  /** Cosine decay from the end of the warm-up to 0 at this step; null = constant after the warm-up. */
  totalSteps: number | null;
  /** Seed of the generator that draws batches, timesteps, noise and conditioning drops. */
  seed: number;
}
