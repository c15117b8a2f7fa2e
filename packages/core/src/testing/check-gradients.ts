import * as tf from '@tensorflow/tfjs-core';
import { type GradientSample, worstRelativeError } from './relative-error.js';
import { sampleIndices } from './sample-indices.js';

export interface GradientCheckOptions {
  /** Finite-difference step; default 1e-3. */
  eps?: number;
  /** When given, throw if the max relative error exceeds it. */
  tolerance?: number;
  /**
   * Errors are relative to max(|analytic|, |numeric|, floor, relativeFloor * the largest gradient
   * entry checked). Defaults: floor 1e-3, relativeFloor 0.1.
   */
  floor?: number;
  relativeFloor?: number;
  /** Entries checked per input, spread evenly; default 64. */
  maxEntries?: number;
}

/**
 * Compares `tf.grads(fn)` with central finite differences and returns the max relative error over
 * the checked entries of float32 `inputs`. In float32, use a loss of moderate scale
 * (e.g. `sum(out * fixedRandom)`): the rounding error of a finite difference grows with |loss| / eps.
 */
export function checkGradients(
  fn: (inputs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  options: GradientCheckOptions = {},
): number {
  const { eps = 1e-3, tolerance, floor = 1e-3, relativeFloor = 0.1, maxEntries = 64 } = options;
  for (const [n, input] of inputs.entries()) {
    if (input.dtype !== 'float32')
      throw new Error(`checkGradients: input ${n} is ${input.dtype}, need float32`);
  }
  const analytic = tf.tidy(() => tf.grads((...xs: tf.Tensor[]) => fn(xs))(inputs));
  try {
    const samples: GradientSample[] = [];
    for (const [n, input] of inputs.entries()) {
      const grad = analytic[n]!.dataSync();
      const base = input.dataSync() as Float32Array;
      // A test helper: reading back per evaluation is fine here.
      const lossAt = (index: number, delta: number) =>
        tf.tidy(() => {
          const values = Float32Array.from(base);
          values[index] = (values[index] ?? 0) + delta;
          const moved = tf.tensor(values, input.shape, 'float32');
          return fn(inputs.map((x, m) => (m === n ? moved : x))).dataSync()[0] ?? Number.NaN;
        });
      for (const index of sampleIndices(input.size, maxEntries)) {
        const numeric = (lossAt(index, eps) - lossAt(index, -eps)) / (2 * eps);
        samples.push({ where: `input ${n}, entry ${index}`, analytic: grad[index] ?? 0, numeric });
      }
    }
    const worst = worstRelativeError(samples, floor, relativeFloor);
    if (tolerance !== undefined && !(worst.error <= tolerance)) {
      throw new Error(
        `gradient check failed: relative error ${worst.error} > ${tolerance} at ${worst.where} (analytic ${worst.analytic}, numeric ${worst.numeric})`,
      );
    }
    return worst.error;
  } finally {
    tf.dispose(analytic);
  }
}
