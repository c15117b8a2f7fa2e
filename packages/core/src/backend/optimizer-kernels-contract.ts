// The optimizer's per-parameter updates as kernels, registered for webgpu only: there a training
// step of a model with hundreds of parameters is otherwise bound by the CPU recording a dozen
// small kernels for each. Other backends run the same computations as plain ops.

/**
 * One AdamW update of one parameter: inputs param, grad (float32, of param's shape), moments
 * [2, ...param's shape] (exp_avg, then exp_avg_sq) and optionally gradScale (a float32 scalar the
 * gradient is multiplied by first: a clipping coefficient); outputs the new param and moments.
 */
export const ADAMW_KERNEL = 'Dalle2jsAdamW';

/** Its attributes: the step's scalars, computed on the host as PyTorch does. */
export interface AdamWKernelAttrs {
  beta1: number;
  beta2: number;
  eps: number;
  /** lr / (1 - beta1^step). */
  stepSize: number;
  /** sqrt(1 - beta2^step). */
  biasCorrection2Sqrt: number;
  /** 1 - lr * weightDecay for a decayed parameter, else 1. */
  decayFactor: number;
}

/** An EMA update: inputs shadow, param; output shadow - oneMinusDecay (shadow - param). */
export const EMA_KERNEL = 'Dalle2jsEmaUpdate';

export interface EmaKernelAttrs {
  oneMinusDecay: number;
}

/**
 * The sum of the squares of the entries of float32 tensors `x0`, `x1`, ... (one or more, of any
 * shapes), a scalar: the squared global L2 norm of a model's gradients.
 */
export const SQUARED_SUM_KERNEL = 'Dalle2jsSquaredSum';

/** The names of SQUARED_SUM_KERNEL's inputs for `count` tensors: x0, x1, ... */
export function squaredSumInputNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `x${i}`);
}
