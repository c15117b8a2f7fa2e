import type * as tf from '@tensorflow/tfjs-core';

/** Throws an Error naming the layer, the expected last dimension and the actual shape. */
export function assertLastDim(layer: string, x: tf.Tensor, expected: number, what = 'last dimension'): void {
  const actual = x.shape[x.rank - 1];
  if (x.rank === 0 || actual !== expected) {
    throw new Error(`${layer}: expected input with ${what} ${expected}, got shape [${x.shape.join(', ')}]`);
  }
}

/** Throws unless `x` has rank `rank`; `pattern` describes the expected shape, e.g. "[B, H, W, C]". */
export function assertRank(layer: string, x: tf.Tensor, rank: number, pattern: string): void {
  if (x.rank !== rank) {
    throw new Error(`${layer}: expected input of shape ${pattern}, got shape [${x.shape.join(', ')}]`);
  }
}

export function assertPositiveInteger(layer: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${layer}: ${name} must be a positive integer, got ${value}`);
  }
}
