import type * as tf from '@tensorflow/tfjs-core';

/**
 * Gradients as the optimizer and `clipGradNorm` take them: keyed by variable, or an array aligned
 * with a list of variables, or `tf.variableGrads`' map keyed by `variable.name`.
 */
export type Gradients = Map<tf.Variable, tf.Tensor> | readonly tf.Tensor[] | tf.NamedTensorMap;

/** The tensors of `grads` in order, whatever their container. */
export function gradientList(grads: Gradients): tf.Tensor[] {
  if (grads instanceof Map) return [...grads.values()];
  if (Array.isArray(grads)) return [...grads];
  return Object.values(grads as tf.NamedTensorMap);
}

/** A container of the same kind as `grads`, with `values` (in `gradientList` order). */
export function withGradients<G extends Gradients>(grads: G, values: tf.Tensor[]): G {
  if (grads instanceof Map) {
    const keys = [...grads.keys()];
    return new Map(keys.map((key, i) => [key, values[i]!])) as G;
  }
  if (Array.isArray(grads)) return values as unknown as G;
  const keys = Object.keys(grads as tf.NamedTensorMap);
  return Object.fromEntries(keys.map((key, i) => [key, values[i]!])) as G;
}
