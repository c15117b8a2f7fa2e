import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { AdamW } from './adamw.js';
import { clipCoefficient } from './clip-grad-norm.js';

export interface TrainStepOptions {
  /** Clip the global gradient norm to this value first. */
  clip?: number;
}

/**
 * Gradients of `lossFn` for `module`'s trainable parameters, optional clipping, one optimizer step.
 * Resolves to the loss before the step.
 */
export async function trainStep(
  module: Module,
  lossFn: () => tf.Scalar,
  optimizer: AdamW,
  options: TrainStepOptions = {},
): Promise<number> {
  const { value, grads } = tf.variableGrads(lossFn, module.trainableVariables());
  try {
    if (options.clip === undefined) {
      optimizer.step(grads);
    } else {
      // The clipping coefficient is applied inside the update: no scaled copy of every gradient.
      const { coefficient, totalNorm } = clipCoefficient(grads, options.clip);
      try {
        optimizer.step(grads, { gradScale: coefficient });
      } finally {
        tf.dispose([coefficient, totalNorm]);
      }
    }
    const [loss] = await value.data();
    return loss ?? Number.NaN;
  } finally {
    value.dispose();
    tf.dispose(grads);
  }
}
