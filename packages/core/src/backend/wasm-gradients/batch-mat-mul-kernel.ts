import * as tf from '@tensorflow/tfjs-core';
import { overrideKernelOnWasm, type WasmBackend } from './override-kernel-on-wasm.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Multiply-adds per batch entry below which wasm's own loop beats an XNNPACK operator per entry. */
const SMALL_PRODUCT = 1 << 16;

/**
 * Replaces wasm's BatchMatMul kernel with one that sends every product to XNNPACK. tfjs-backend-wasm
 * runs a matMul on XNNPACK (SIMD, threads) only when neither side is transposed and both have a
 * batch of one; everything else (transposeA, transposeB, batches: attention, and the gradients of
 * every matMul) falls to a scalar single-threaded loop, 15 to 60 times slower on 2 cores. This
 * kernel transposes explicitly, folds a shared right-hand side into the rows of the left one, and
 * runs one XNNPACK product per batch entry otherwise (unless the entries are tiny).
 */
export function overrideBatchMatMulOnWasm(): void {
  overrideKernelOnWasm(tf.BatchMatMul, (xnnMatMul) => (args) => batchMatMul(args, xnnMatMul));
}

function batchMatMul(args: KernelArgs, xnnMatMul: tf.KernelFunc): tf.TensorInfo {
  const { inputs, attrs } = args;
  const backend = args.backend as WasmBackend;
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA = false, transposeB = false } = attrs as { transposeA?: boolean; transposeB?: boolean };
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  const plain = !transposeA && !transposeB && batchA === 1 && batchB === 1;
  const [m, k] = innerDims(a, transposeA);
  const [kb, n] = innerDims(b, transposeB);
  // Already on XNNPACK; a left side broadcast over b's batch is left to the original as well, and
  // so are batches of products too small to pay for an XNNPACK operator each, and mismatched
  // shapes (for the original's error).
  if (
    plain ||
    k !== kb ||
    a.dtype !== 'float32' ||
    b.dtype !== 'float32' ||
    (batchB !== 1 && (batchA !== batchB || m * k * n < SMALL_PRODUCT))
  ) {
    return xnnMatMul(args) as tf.TensorInfo;
  }
  const run = kernelRunner(backend);
  const temporary: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo) => {
    temporary.push(t);
    return t;
  };
  try {
    const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(
      a.shape.slice(0, -2),
      b.shape.slice(0, -2),
    );
    const outShape = [...batchShape, m, n];
    const matMul2d = (left: tf.TensorInfo, right: tf.TensorInfo) =>
      xnnMatMul({
        inputs: { a: left, b: right },
        backend,
        attrs: { transposeA: false, transposeB: false },
      }) as tf.TensorInfo;
    if (batchA === 1 && batchB === 1 && !transposeA && transposeB && m * (k + n) < n * k) {
      // a b^T with few rows in a (a layer's input gradient, dy W^T): as (b a^T)^T, XNNPACK packs
      // the small a^T instead of transposing and packing all of b.
      const left = keep(run(tf.Reshape, { x: b }, { shape: [1, n, k] }));
      const right = keep(as3d(run, backend, a, 1, true)); // [1, K, M]
      const product = keep(matMul2d(left, right)); // [1, N, M]
      const transposed = keep(run(tf.Transpose, { x: product }, { perm: [0, 2, 1] })); // [1, M, N]
      return run(tf.Reshape, { x: transposed }, { shape: outShape });
    }
    // [batch, M, K] and [batch, K, N], each materialised in row-major order.
    const a3 = keep(as3d(run, backend, a, batchA, transposeA));
    const b3 = keep(as3d(run, backend, b, batchB, transposeB));
    if (batchB === 1) {
      // One product: every batch entry of a multiplies the same b, so a's batches become rows.
      const rows = keep(run(tf.Reshape, { x: a3 }, { shape: [1, batchA * m, k] }));
      const product = keep(matMul2d(rows, b3)); // [1, batchA * M, N]
      return run(tf.Reshape, { x: product }, { shape: outShape });
    }
    const products: tf.TensorInfo[] = [];
    for (let i = 0; i < batchA; i++) {
      const left = keep(run(tf.Slice, { x: a3 }, { begin: [i, 0, 0], size: [1, m, k] }));
      const right = keep(run(tf.Slice, { x: b3 }, { begin: [i, 0, 0], size: [1, k, n] }));
      products.push(keep(matMul2d(left, right))); // [1, M, N]
    }
    const stacked = keep(run(tf.Concat, products, { axis: 0 })); // [batch, M, N]
    return run(tf.Reshape, { x: stacked }, { shape: outShape });
  } finally {
    for (const t of temporary) backend.disposeData(t.dataId);
  }
}

type Runner = (
  name: string,
  inputs: tf.NamedTensorInfoMap | tf.TensorInfo[],
  attrs: tf.NamedAttrMap,
) => tf.TensorInfo;

/** Calls another wasm kernel directly; the caller disposes what it returns. */
function kernelRunner(backend: tf.KernelBackend): Runner {
  return (name, inputs, attrs) => {
    const kernel = tf.getKernel(name, 'wasm');
    if (!kernel) throw new Error(`The wasm backend has no ${name} kernel.`);
    // Concat takes its inputs as a list, the other kernels by name.
    return kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend, attrs }) as tf.TensorInfo;
  };
}

/** x as [batch, rows, cols] in row-major order, after swapping its last two axes if `transposed`. */
function as3d(
  run: Runner,
  backend: WasmBackend,
  x: tf.TensorInfo,
  batch: number,
  transposed: boolean,
): tf.TensorInfo {
  const [rows, cols] = x.shape.slice(-2) as [number, number];
  const stored = run(tf.Reshape, { x }, { shape: [batch, rows, cols] });
  if (!transposed) return stored;
  try {
    return run(tf.Transpose, { x: stored }, { perm: [0, 2, 1] }); // [batch, cols, rows]
  } finally {
    backend.disposeData(stored.dataId);
  }
}

/** [rows, cols] of x's last two axes, swapped if `transposed`. */
function innerDims(x: tf.TensorInfo, transposed: boolean): [number, number] {
  const [r, c] = x.shape.slice(-2) as [number, number];
  return transposed ? [c, r] : [r, c];
}

function size(shape: number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}
