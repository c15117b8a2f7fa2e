import type * as tf from '@tensorflow/tfjs-core';
import { HEADS_MATMUL_KERNEL, type HeadsLayout, type HeadsMatMulAttrs } from '../heads-matmul-contract.js';
import { registerOwnKernels } from '../override-kernel.js';
import { batchMatMul, type MatMulPlan } from './batch-matmul-webgpu.js';
import type { WebGpuBackend } from './webgpu-program.js';

/** A stored [B, H] batch of matrices: its sizes and where entry (i, j) of matrix (outer, head) lies. */
interface StoredMatrices {
  batch: number;
  heads: number;
  rows: number;
  cols: number;
  /** [outer, head, row] strides; columns are contiguous. */
  strides: [number, number, number];
}

function stored(shape: number[], layout: HeadsLayout): StoredMatrices {
  const [batch, second, third, cols] = shape as [number, number, number, number];
  return layout === 'batch'
    ? { batch, heads: second, rows: third, cols, strides: [second * third * cols, third * cols, cols] }
    : { batch, heads: third, rows: second, cols, strides: [second * third * cols, cols, third * cols] };
}

/**
 * [outer, head, tile, inner] strides of an operand whose product entry (t, k) is its stored (t, k),
 * or with `transposed` its stored (k, t).
 */
function operandStrides({ strides: [outer, head, row] }: StoredMatrices, transposed: boolean): number[] {
  return transposed ? [outer, head, 1, row] : [outer, head, row, 1];
}

/**
 * The plan of `batchMatMul` for a heads product (see HEADS_MATMUL_KERNEL): the same tiled GEMM,
 * reading and writing through the layouts' strides. The inner sum does not split where the result
 * is in 'heads' layout: split sums are added as contiguous tensors.
 */
export function planHeadsMatMul(aShape: number[], bShape: number[], attrs: HeadsMatMulAttrs): MatMulPlan {
  const a = stored(aShape, attrs.layoutA);
  const b = stored(bShape, attrs.layoutB);
  const [rows, inner] = attrs.transposeA ? [a.cols, a.rows] : [a.rows, a.cols];
  const cols = attrs.transposeB ? b.rows : b.cols;
  const { batch, heads } = a;
  const shape = attrs.layoutOut === 'batch' ? [batch, heads, rows, cols] : [batch, rows, heads, cols];
  return {
    rows,
    cols,
    inner,
    batches: batch * heads,
    a: attrs.transposeA ? 'tile' : 'inner',
    b: attrs.transposeB ? 'inner' : 'tile',
    shape,
    heads,
    strides: {
      a: operandStrides(a, attrs.transposeA),
      b: operandStrides(b, !attrs.transposeB),
      c: stored(shape, attrs.layoutOut).strides,
    },
    splittable: attrs.layoutOut === 'batch',
  };
}

/** The heads product on our tiled GEMM. Safe to call again. */
export function registerHeadsMatMulOnWebGpu(): void {
  registerOwnKernels('webgpu', {
    [HEADS_MATMUL_KERNEL]: ({ inputs, backend, attrs }) => {
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const plan = planHeadsMatMul(a.shape, b.shape, attrs as unknown as HeadsMatMulAttrs);
      return batchMatMul(backend as WebGpuBackend, a, b, undefined, plan);
    },
  });
}
