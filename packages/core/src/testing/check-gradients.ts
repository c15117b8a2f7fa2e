import * as tf from '@tensorflow/tfjs-core';
import { relativeError } from './relative-error.js';
import { sampleIndices } from './sample-indices.js';

export interface GradientCheckOptions {
  /** Finite-difference step; default 1e-3. */
  eps?: number;
  /** When given, throw if the max relative error exceeds it. */
  tolerance?: number;
  /** Relative errors are taken against max(|analytic|, |numeric|, floor); default 1e-2. */
  floor?: number;
  /** Entries checked per input, spread evenly; default 64. */
  maxEntries?: number;
}

/**
 * Compares `tf.grads(fn)` with central finite differences and returns the max relative error over
 * the checked entries. In float32, use a loss of moderate scale (e.g. `sum(out * fixedRandom)`):
 * the rounding error of the finite difference grows with |loss| / eps.
 */
export function checkGradients(
  fn: (inputs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  options: GradientCheckOptions = {},
): number {
  const { eps = 1e-3, tolerance, floor = 1e-2, maxEntries = 64 } = options;
  const analytic = tf.tidy(() => tf.grads((...xs: tf.Tensor[]) => fn(xs))(inputs));
  try {
    let worst = { error: 0, input: -1, index: -1, analytic: 0, numeric: 0 };
    for (const [n, input] of inputs.entries()) {
      const grad = analytic[n]!.dataSync();
      const base = input.dataSync() as Float32Array;
      for (const index of sampleIndices(input.size, maxEntries)) {
        const lossAt = (delta: number) =>
          tf.tidy(() => {
            const values = Float32Array.from(base);
            values[index] = (values[index] ?? 0) + delta;
            const moved = tf.tensor(values, input.shape, 'float32');
            return fn(inputs.map((x, m) => (m === n ? moved : x))).dataSync()[0] ?? Number.NaN;
          });
        const numeric = (lossAt(eps) - lossAt(-eps)) / (2 * eps);
        const error = relativeError(grad[index] ?? 0, numeric, floor);
        if (!(error <= worst.error)) worst = { error, input: n, index, analytic: grad[index] ?? 0, numeric };
      }
    }
    if (tolerance !== undefined && !(worst.error <= tolerance)) {
      throw new Error(
        `gradient check failed: relative error ${worst.error} > ${tolerance} at input ${worst.input}, entry ${worst.index} (analytic ${worst.analytic}, numeric ${worst.numeric})`,
      );
    }
    return worst.error;
  } finally {
    tf.dispose(analytic);
  }
}
