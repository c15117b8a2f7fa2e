import * as tf from '@tensorflow/tfjs-core';
import type { TorchLayout } from '../nn/module.js';
import { formatShape } from './tensor-data.js';

// ours [in, out] <-> PyTorch [out, in]; ours HWIO [kh, kw, in, out] <-> PyTorch OIHW [out, in, kh, kw].
const TO_TORCH: Record<TorchLayout, number[] | undefined> = {
  same: undefined,
  linear: [1, 0],
  conv2d: [3, 2, 0, 1],
};
const FROM_TORCH: Record<TorchLayout, number[] | undefined> = {
  same: undefined,
  linear: [1, 0],
  conv2d: [2, 3, 1, 0],
};

function checkRank(shape: readonly number[], layout: TorchLayout, key: string): void {
  const rank = TO_TORCH[layout]?.length;
  if (rank !== undefined && shape.length !== rank) {
    throw new Error(
      `parameter "${key}": layout '${layout}' needs rank ${rank}, found shape ${formatShape(shape)}`,
    );
  }
}

/** The PyTorch shape of a parameter whose shape (in our layout) is `shape`. */
export function torchShape(shape: readonly number[], layout: TorchLayout, key: string): number[] {
  checkRank(shape, layout, key);
  const perm = TO_TORCH[layout];
  return perm ? perm.map((axis) => shape[axis]!) : [...shape];
}

/** Our layout -> PyTorch's. Returns `x` itself for 'same' (the caller must not dispose it twice). */
export function toTorchLayout(x: tf.Tensor, layout: TorchLayout, key: string): tf.Tensor {
  checkRank(x.shape, layout, key);
  const perm = TO_TORCH[layout];
  return perm ? tf.transpose(x, perm) : x;
}

/** PyTorch's layout -> ours. Returns `x` itself for 'same'. */
export function fromTorchLayout(x: tf.Tensor, layout: TorchLayout, key: string): tf.Tensor {
  const perm = FROM_TORCH[layout];
  if (perm && x.rank !== perm.length) {
    throw new Error(
      `parameter "${key}": layout '${layout}' needs rank ${perm.length}, found shape ${formatShape(x.shape)}`,
    );
  }
  return perm ? tf.transpose(x, perm) : x;
}
