import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { AdamW } from './adamw.js';
import { clipGradNorm } from './clip-grad-norm.js';

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
      const clipped = clipGradNorm(grads, options.clip);
      try {
        optimizer.step(clipped.grads);
      } finally {
        tf.dispose(clipped.grads);
        clipped.totalNorm.dispose();
      }
    }
    const [loss] = await value.data();
    return loss ?? Number.NaN;
  } finally {
    value.dispose();
    tf.dispose(grads);
  }
}
