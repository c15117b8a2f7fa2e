import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { GradientCheckOptions } from './check-gradients.js';
import { type GradientSample, worstRelativeError } from './relative-error.js';
import { sampleIndices } from './sample-indices.js';

export interface ModuleGradientCheckOptions extends Omit<GradientCheckOptions, 'maxEntries'> {
  /** Entries checked per parameter, spread evenly; default 8. */
  entriesPerParameter?: number;
}

/**
 * Compares `tf.variableGrads` of `lossFn` for every trainable parameter of `module` with central
 * finite differences on a few entries per parameter; returns the max relative error (defined as in
 * `checkGradients`, over all parameters together). The parameters are restored exactly afterwards.
 */
export function checkModuleGradients(
  module: Module,
  lossFn: () => tf.Scalar,
  options: ModuleGradientCheckOptions = {},
): number {
  const { eps = 1e-3, tolerance, floor = 1e-3, relativeFloor = 0.1, entriesPerParameter = 8 } = options;
  const parameters = [...module.namedParameters()].filter(([, p]) => p.trainable);
  const { value, grads } = tf.variableGrads(
    lossFn,
    parameters.map(([, p]) => p.variable),
  );
  value.dispose();
  try {
    const samples: GradientSample[] = [];
    for (const [name, { variable }] of parameters) {
      const grad = grads[variable.name];
      if (grad === undefined) throw new Error(`checkModuleGradients: no gradient for parameter "${name}"`);
      const analytic = grad.dataSync();
      const base = Float32Array.from(variable.dataSync() as Float32Array);
      // A test helper: reading back per evaluation is fine here.
      const lossAt = (index: number, delta: number) => {
        const values = Float32Array.from(base);
        values[index] = (values[index] ?? 0) + delta;
        tf.tidy(() => variable.assign(tf.tensor(values, variable.shape, 'float32')));
        return tf.tidy(() => lossFn().dataSync()[0] ?? Number.NaN);
      };
      try {
        for (const index of sampleIndices(variable.size, entriesPerParameter)) {
          const numeric = (lossAt(index, eps) - lossAt(index, -eps)) / (2 * eps);
          samples.push({ where: `"${name}" entry ${index}`, analytic: analytic[index] ?? 0, numeric });
        }
      } finally {
        tf.tidy(() => variable.assign(tf.tensor(base, variable.shape, 'float32')));
      }
    }
    const worst = worstRelativeError(samples, floor, relativeFloor);
    if (tolerance !== undefined && !(worst.error <= tolerance)) {
      throw new Error(
        `module gradient check failed: relative error ${worst.error} > ${tolerance} at ${worst.where} (analytic ${worst.analytic}, numeric ${worst.numeric})`,
      );
    }
    return worst.error;
  } finally {
    tf.dispose(grads);
  }
}
