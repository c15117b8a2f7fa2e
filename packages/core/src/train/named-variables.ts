import type * as tf from '@tensorflow/tfjs-core';
import { Module } from '../nn/module.js';

/** What an optimizer or EMA can track: a module's trainable parameters, named variables, or a plain list. */
export type ParameterSource = Module | ReadonlyMap<string, tf.Variable> | readonly tf.Variable[];

/**
 * Stable names for the variables of `source`: state-dict keys for a module, the map's keys, or
 * '0', '1', ... for a list. These names key exported state, so a checkpoint resumes by name.
 */
export function namedVariables(source: ParameterSource): Map<string, tf.Variable> {
  if (source instanceof Module) {
    const out = new Map<string, tf.Variable>();
    for (const [name, parameter] of source.namedParameters()) {
      if (parameter.trainable) out.set(name, parameter.variable);
    }
    return out;
  }
  if (source instanceof Map) return new Map(source);
  return new Map((source as readonly tf.Variable[]).map((variable, i) => [String(i), variable]));
}
