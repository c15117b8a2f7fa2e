import * as tf from '@tensorflow/tfjs-core';
import {
  flatDispatch,
  intUniforms,
  runWebGpuKernel,
  type WebGpuBackend,
  type WebGpuProgram,
} from './webgpu-program.js';

const THREADS = 256;

/**
 * out[i] = sum over s of partial[s, i], a thread per entry. tfjs' Sum over the first axis would
 * transpose the partial sums and then run a workgroup per entry.
 */
function splitSumProgram(shape: number[]): WebGpuProgram {
  const size = tf.util.sizeFromShape(shape);
  return {
    variableNames: ['partial'],
    outputShape: shape,
    shaderKey: 'dalle2js_split_sum',
    dispatchLayout: { x: shape.map((_, axis) => axis) },
    dispatch: flatDispatch(size, THREADS),
    workgroupSize: [THREADS, 1, 1],
    size: true,
    uniforms: 'splits : i32,',
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          var sum = 0.0;
          for (var s = 0; s < uniforms.splits; s = s + 1) {
            sum = sum + partial[s * uniforms.size + index];
          }
          setOutputAtIndex(index, sum);
        }
      }
    `,
  };
}

/**
 * The partial sums [splits, ...] of a split GEMM added over the splits, shaped as `shape` (one
 * split: the same data, reshaped); disposes `partial`.
 */
export function sumSplits(
  gpu: WebGpuBackend,
  partial: tf.TensorInfo,
  splits: number,
  shape: number[],
): tf.TensorInfo {
  try {
    if (splits === 1) return runWebGpuKernel(tf.Reshape, gpu, { x: partial }, { shape });
    return gpu.runWebGPUProgram(splitSumProgram(shape), [partial], 'float32', intUniforms(splits));
  } finally {
    gpu.disposeData(partial.dataId);
  }
}
