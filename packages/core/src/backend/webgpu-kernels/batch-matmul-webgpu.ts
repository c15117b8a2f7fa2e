import * as tf from '@tensorflow/tfjs-core';
import { LINEAR_KERNEL } from '../linear-kernel-contract.js';
import { overrideKernel, registerOwnKernels } from '../override-kernel.js';
import { TILE_INNER } from './conv-gemm.js';
import { type Contiguous, type MatMulLayout, matMulProgram, matMulTiling } from './matmul-program.js';
import { sumSplits } from './split-sum.js';
import { splitInner, tileCounts } from './tiled-gemm.js';
import { webGpuKernelEnabled } from './webgpu-kernels-switch.js';
import { addResidual, intUniforms, runWebGpuKernel, type WebGpuBackend } from './webgpu-program.js';

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  /** _FusedMatMul's; ours takes only 'linear' (none). */
  activation?: string;
}

/** The most workgroups WebGPU guarantees along one dispatch dimension, which runs over batch entries. */
const MAX_WORKGROUPS_PER_DIMENSION = 65535;

/**
 * Replaces tfjs-backend-webgpu's BatchMatMul (tiles of 32 x 32, 4 x 4 entries a thread) with our
 * tiled GEMM (see `matMulProgram`) for float32 operands whose batches match or broadcast from one,
 * and its _FusedMatMul likewise where the fusion is a bias of one value per column and no
 * activation (`tf.fused.matMul`, as `Linear` layers with a bias call it): one dispatch instead of
 * a matMul and an add. Switched by `setWebGpuKernels({ matMul })`.
 */
export function overrideBatchMatMulOnWebGpu(): void {
  for (const kernelName of [tf.BatchMatMul, tf._FusedMatMul]) {
    overrideKernel('webgpu', kernelName, (original) => (args) => {
      const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const attrs = args.attrs as unknown as MatMulAttrs;
      const onlyBias = (attrs.activation ?? 'linear') === 'linear' && preluActivationWeights === undefined;
      const plan = webGpuKernelEnabled('matMul') && onlyBias ? planMatMul(a!, b!, attrs, bias) : null;
      if (!plan) return original(args);
      return batchMatMul(args.backend as WebGpuBackend, a!, b!, bias, plan);
    });
  }
}

/**
 * LINEAR_KERNEL: a b (+ bias) (+ residual) as one program (with its split sums) where our matMul
 * applies; else tfjs' (fused) matMul, then an add. Safe to call again.
 */
export function registerLinearOnWebGpu(): void {
  registerOwnKernels('webgpu', {
    [LINEAR_KERNEL]: ({ inputs, backend }) => {
      const gpu = backend as WebGpuBackend;
      const { a, b, bias, residual } = inputs as Record<string, tf.TensorInfo | undefined>;
      const attrs = { transposeA: false, transposeB: false };
      const plan = webGpuKernelEnabled('matMul') ? planMatMul(a!, b!, attrs, bias) : null;
      if (plan && plan.batches === 1) return batchMatMul(gpu, a!, b!, bias, plan, residual);
      const product = bias
        ? runWebGpuKernel(tf._FusedMatMul, gpu, { a: a!, b: b!, bias }, { ...attrs, activation: 'linear' })
        : runWebGpuKernel(tf.BatchMatMul, gpu, { a: a!, b: b! }, attrs);
      return residual ? addResidual(gpu, product, residual) : product;
    },
  });
}

/** A batched product as our program runs it: C [batches, rows, cols] = A B, inner entries summed. */
export interface MatMulPlan {
  rows: number;
  cols: number;
  inner: number;
  batches: number;
  a: Contiguous;
  b: Contiguous;
  /** The result's shape: the broadcast outer dimensions, then rows and columns. */
  shape: number[];
  /** Batch entries per outer index (see MATMUL_UNIFORMS); 1 but for attention's heads. */
  heads: number;
  /** [outer, head, tile, inner] strides of each operand; [outer, head, row] of the result. */
  strides: { a: number[]; b: number[]; c: number[] };
  /** Whether the inner sum may split: only where the result is contiguous, as the split sums add up so. */
  splittable: boolean;
}

/**
 * The plan for tfjs' BatchMatMul of `a` and `b`, or null where tfjs' kernel keeps the call: other
 * dtypes, empty operands, outer dimensions that broadcast other than from a single batch entry,
 * more batch entries than one dispatch dimension holds, or a bias other than one value per column.
 */
export function planMatMul(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  attrs: MatMulAttrs,
  bias?: tf.TensorInfo,
): MatMulPlan | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const [outerA, outerB] = [a.shape.slice(0, -2), b.shape.slice(0, -2)];
  const [rows, innerA] = attrs.transposeA ? a.shape.slice(-2).reverse() : a.shape.slice(-2);
  const [innerB, cols] = attrs.transposeB ? b.shape.slice(-2).reverse() : b.shape.slice(-2);
  const [batchesA, batchesB] = [tf.util.sizeFromShape(outerA), tf.util.sizeFromShape(outerB)];
  const batches = Math.max(batchesA, batchesB);
  if (innerA !== innerB || !rows || !cols || !innerA) return null;
  if (batchesA !== batchesB && Math.min(batchesA, batchesB) !== 1) return null;
  if (batches > MAX_WORKGROUPS_PER_DIMENSION) return null;
  if (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== cols)) return null;
  const shape = [...tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB), rows, cols];
  if (tf.util.sizeFromShape(shape) !== batches * rows * cols) return null;
  const contiguousA: Contiguous = attrs.transposeA ? 'tile' : 'inner';
  const contiguousB: Contiguous = attrs.transposeB ? 'inner' : 'tile';
  return {
    rows,
    cols,
    inner: innerA,
    batches,
    a: contiguousA,
    b: contiguousB,
    shape,
    heads: 1,
    strides: {
      a: operandStrides(contiguousA, rows, innerA, batchesA),
      b: operandStrides(contiguousB, cols, innerA, batchesB),
      c: [rows * cols, 0, cols],
    },
    splittable: true,
  };
}

/**
 * Runs `plan` on `a` and `b` (and `bias`, and `residual` for a product of one batch entry), the
 * inner sum split where there are few tiles, and adds the splits.
 */
export function batchMatMul(
  gpu: WebGpuBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  plan: MatMulPlan,
  residual?: tf.TensorInfo,
): tf.TensorInfo {
  const { rows, cols, inner, batches } = plan;
  const storage = gpu.device.limits.maxComputeWorkgroupStorageSize;
  const layout: MatMulLayout = {
    tiling: matMulTiling(rows, cols, plan.a, plan.b, storage),
    a: plan.a,
    b: plan.b,
    vec4A: (plan.a === 'tile' ? rows : inner) % 4 === 0,
    vec4B: (plan.b === 'tile' ? cols : inner) % 4 === 0,
    bias: bias !== undefined,
    residual: residual !== undefined,
  };
  const [colTiles, rowTiles] = tileCounts(rows, cols, layout.tiling);
  // Splits only where the tiles of all batch entries are few, so batches x splits stays small.
  const steps = Math.ceil(inner / TILE_INNER);
  const { splits, stepsPerSplit } = plan.splittable
    ? splitInner(colTiles * rowTiles * batches, steps)
    : { splits: 1, stepsPerSplit: steps };
  const { strides } = plan;
  const uniforms = intUniforms(
    rows,
    cols,
    inner,
    stepsPerSplit,
    splits,
    batches,
    plan.heads,
    ...strides.a,
    ...strides.b,
    ...strides.c,
  );
  const program = matMulProgram(layout, rows, cols, batches, splits);
  const inputs = [a, b, ...(bias ? [bias] : []), ...(residual ? [residual] : [])];
  const partial = gpu.runWebGPUProgram(program, inputs, 'float32', uniforms);
  return sumSplits(gpu, partial, splits, plan.shape);
}

/** [outer, head, tile, inner] strides of a contiguous operand of `tileSize` x `inner` entries per batch entry. */
function operandStrides(contiguous: Contiguous, tileSize: number, inner: number, batches: number): number[] {
  const batchStride = batches === 1 ? 0 : tileSize * inner;
  return contiguous === 'tile' ? [batchStride, 0, 1, tileSize] : [batchStride, 0, inner, 1];
}
