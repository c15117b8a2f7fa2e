import * as tf from '@tensorflow/tfjs-core';
import { runWebGpuKernel, type WebGpuBackend } from './webgpu-program.js';

/**
 * The partial sums [splits, ...] of a split GEMM added over the splits and shaped as `shape`;
 * disposes `partial`.
 */
export function sumSplits(
  gpu: WebGpuBackend,
  partial: tf.TensorInfo,
  splits: number,
  shape: number[],
): tf.TensorInfo {
  try {
    const summed =
      splits === 1 ? partial : runWebGpuKernel(tf.Sum, gpu, { x: partial }, { axis: [0], keepDims: false });
    try {
      return runWebGpuKernel(tf.Reshape, gpu, { x: summed }, { shape });
    } finally {
      if (summed !== partial) gpu.disposeData(summed.dataId);
    }
  } finally {
    gpu.disposeData(partial.dataId);
  }
}
