import type { Module } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Sets every parameter of `module` to zero and returns it: guided-diffusion's `zero_module`, used
 * on the last layer of each residual branch and on the output conv so that every block starts as
 * the identity, which speeds up early training a lot.
 */
export function zeroInit<M extends Module>(module: M): M {
  for (const { variable } of module.namedParameters().values()) {
    tf.tidy(() => variable.assign(tf.zerosLike(variable)));
  }
  return module;
}
