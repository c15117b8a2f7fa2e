import * as tf from '@tensorflow/tfjs-core';
import { registerOwnKernels } from '../override-kernel.js';
import {
  SCALED_SOFTMAX_GRAD_KERNEL,
  SCALED_SOFTMAX_KERNEL,
  type ScaledSoftmaxAttrs,
} from '../scaled-softmax-contract.js';
import {
  flatDispatch,
  floatUniforms,
  intUniforms,
  type WebGpuBackend,
  type WebGpuProgram,
} from './webgpu-program.js';
import { workgroupReduction } from './workgroup-sum.js';

/** Threads per row: fewer than the reductions' usual 256, as attention's rows are short (tokens). */
const ROW_THREADS = 64;

const ROW_REDUCTIONS =
  workgroupReduction('workgroupSum', ROW_THREADS, 'a + b') +
  workgroupReduction('workgroupMax', ROW_THREADS, 'max(a, b)');

/**
 * The workgroup's row and where it starts. Past 65535 rows the workgroups spread over two
 * dispatch dimensions; a spare one computes the last row again but writes nothing.
 */
const WORKGROUP_ROW = `
  let flatRow = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
  let inRange = flatRow < uniforms.rows;
  let start = min(flatRow, uniforms.rows - 1) * uniforms.length;
`;

/** A program with a workgroup per row of `shape`'s last axis, writing `shape`. */
function rowProgram(name: string, variableNames: string[], shape: number[], main: string): WebGpuProgram {
  const length = shape[shape.length - 1] as number;
  const rows = tf.util.sizeFromShape(shape) / length;
  return {
    variableNames,
    outputShape: shape,
    shaderKey: `dalle2js_scaled_softmax${name}`,
    dispatchLayout: { x: shape.map((_, axis) => axis) },
    dispatch: flatDispatch(rows * ROW_THREADS, ROW_THREADS),
    workgroupSize: [ROW_THREADS, 1, 1],
    uniforms: 'rows : i32, length : i32, scale : f32,',
    getUserCode: () => `
      ${ROW_REDUCTIONS}
      fn main(index : i32) {
        ${WORKGROUP_ROW}
        ${main}
      }
    `,
  };
}

/** Each row's maximum, then the sum of exp(scale (x - max)), then each entry over that sum. */
function forwardProgram(shape: number[]): WebGpuProgram {
  return rowProgram(
    '',
    ['logits'],
    shape,
    `
        var rowMax = -3.402823e38;
        for (var k = i32(localId.x); k < uniforms.length; k = k + ${ROW_THREADS}) {
          rowMax = max(rowMax, logits[start + k]);
        }
        rowMax = workgroupMax(rowMax);
        var sum = 0.0;
        for (var k = i32(localId.x); k < uniforms.length; k = k + ${ROW_THREADS}) {
          sum = sum + exp((logits[start + k] - rowMax) * uniforms.scale);
        }
        let total = workgroupSum(sum);
        if (inRange) {
          for (var k = i32(localId.x); k < uniforms.length; k = k + ${ROW_THREADS}) {
            setOutputAtIndex(start + k, exp((logits[start + k] - rowMax) * uniforms.scale) / total);
          }
        }`,
  );
}

/** Each row's sum of dy y, then scale y (dy - that sum). */
function gradientProgram(shape: number[]): WebGpuProgram {
  return rowProgram(
    '_grad',
    ['dy', 'y'],
    shape,
    `
        var sum = 0.0;
        for (var k = i32(localId.x); k < uniforms.length; k = k + ${ROW_THREADS}) {
          sum = sum + dy[start + k] * y[start + k];
        }
        let total = workgroupSum(sum);
        if (inRange) {
          for (var k = i32(localId.x); k < uniforms.length; k = k + ${ROW_THREADS}) {
            let i = start + k;
            setOutputAtIndex(i, uniforms.scale * y[i] * (dy[i] - total));
          }
        }`,
  );
}

function uniforms(shape: number[], scale: number) {
  const length = shape[shape.length - 1] as number;
  return [...intUniforms(tf.util.sizeFromShape(shape) / length, length), ...floatUniforms(scale)];
}

/**
 * The scaled softmax of attention as one program forward and one backward, a workgroup per row:
 * tfjs runs a multiply and its softmax forward, and four kernels backward, each a pass over the
 * scores, attention's largest tensor. Safe to call again.
 */
export function registerScaledSoftmaxOnWebGpu(): void {
  registerOwnKernels('webgpu', {
    [SCALED_SOFTMAX_KERNEL]: ({ inputs, backend, attrs }) => {
      const { logits } = inputs as { logits: tf.TensorInfo };
      const { scale } = attrs as unknown as ScaledSoftmaxAttrs;
      return (backend as WebGpuBackend).runWebGPUProgram(
        forwardProgram(logits.shape),
        [logits],
        'float32',
        uniforms(logits.shape, scale),
      );
    },
    [SCALED_SOFTMAX_GRAD_KERNEL]: ({ inputs, backend, attrs }) => {
      const { dy, y } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
      const { scale } = attrs as unknown as ScaledSoftmaxAttrs;
      return (backend as WebGpuBackend).runWebGPUProgram(
        gradientProgram(y.shape),
        [dy, y],
        'float32',
        uniforms(y.shape, scale),
      );
    },
  });
}
