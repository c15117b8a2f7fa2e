import type * as tf from '@tensorflow/tfjs-core';
import { extract, type Timesteps } from './extract.js';
import type { NoiseSchedule } from './noise-schedule.js';
import { numberIn } from './validate.js';

export interface P2LossWeightOptions {
  /** Strength of the down-weighting; 0 turns it off. Default 0 (DALLE2-pytorch's default); the paper uses 1. */
  gamma?: number;
  /** Keeps the weight finite as the SNR goes to 0. Default 1. */
  k?: number;
}

/**
 * Perception-prioritised weights (Choi et al. 2022), (k + snr_t)^-gamma for each sample's
 * timestep: less weight on the nearly clean steps. Float32, shape [B].
 */
export function p2LossWeight(
  schedule: NoiseSchedule,
  t: Timesteps,
  options: P2LossWeightOptions = {},
): tf.Tensor1D {
  const gamma = numberIn('gamma', options.gamma ?? 0, 0, Number.MAX_VALUE);
  const k = numberIn('k', options.k ?? 1, 0, Number.MAX_VALUE);
  const weights = schedule.alphasCumprod.map((a) => (k + a / (1 - a)) ** -gamma);
  return extract(weights, t, 1) as tf.Tensor1D;
}
