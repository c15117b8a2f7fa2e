import * as tf from '@tensorflow/tfjs-core';
import { defaultGenerator } from '../random/default-generator.js';
import type { Rng } from '../random/rng.js';

export function resolveRng(rng: Rng | undefined): Rng {
  return rng ?? defaultGenerator();
}

/** `kaiming_uniform_(w, a=sqrt(5))` as PyTorch's Linear and Conv2d use it, computed the same way. */
export function kaimingUniformBound(fanIn: number): number {
  const gain = Math.sqrt(2 / (1 + 5));
  return Math.sqrt(3) * (gain / Math.sqrt(fanIn));
}

/** PyTorch's Linear and Conv2d bias bound. */
export function biasBound(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}

/**
 * `tensor.uniform_(-bound, bound)` drawn in the order of `torchShape` (PyTorch's own layout) and
 * rounded in float32 like ATen's `uniform_real_distribution<float>`, so a torch-compatible
 * generator reproduces `torch.nn.init` value for value; `perm` then moves the result to our
 * channels-last layout.
 */
export function uniformInit(rng: Rng, torchShape: number[], bound: number, perm?: number[]): tf.Tensor {
  const size = torchShape.reduce((a, b) => a * b, 1);
  const u = rng.uniform(size);
  const from = Math.fround(-bound);
  const range = Math.fround(Math.fround(bound) - from);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = Math.fround(Math.fround((u[i] ?? 0) * range) + from);
  return tf.tidy(() => {
    const t = tf.tensor(values, torchShape, 'float32');
    return perm === undefined ? t : tf.transpose(t, perm);
  });
}

/** N(0, 1) in row-major order of `shape`, like `torch.nn.init.normal_`. */
export function normalInit(rng: Rng, shape: number[]): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.normal(size), shape, 'float32');
}
