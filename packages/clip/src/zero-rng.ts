import { defaultGenerator, type Rng } from '@dalle2js/core';

/**
 * Draws nothing: normals are 0 and uniforms 1/2, so that core's initialisers (U(-b, b) and N(0, 1)) give
 * exact zeros. Modules are built from it and then drawn once, or filled from a checkpoint.
 */
export const ZERO_RNG: Rng = {
  normal: (n) => new Float32Array(n),
  uniform: (n) => new Float32Array(n).fill(0.5),
};

/** Core's global generator, the default source of initial weights. */
export function defaultRng(): Rng {
  return defaultGenerator();
}
