import * as tf from '@tensorflow/tfjs-core';
import { type SimdKernels, simdKernels } from '../wasm-simd/simd-kernels.js';
import { type HeapArray, overrideKernelOnWasm, type WasmBackend } from './override-kernel-on-wasm.js';

/**
 * Replaces wasm's Slice, SplitV and Unpack kernels with ones that copy only the slice.
 * tfjs-backend-wasm reads the input with `readSync`, which copies the whole tensor off the heap
 * first, so every slice costs a full copy of its input, and a split or unstack into k parts k full
 * copies. These copy each contiguous run of the slice from a view of the heap.
 */
export function overrideSliceOnWasm(): void {
  overrideKernelOnWasm(tf.Slice, (original) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return original(args);
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
    const [start, extent] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size) as [
      number[],
      number[],
    ];
    return slice(args.backend as WasmBackend, x, start, extent);
  });
  overrideKernelOnWasm(tf.SplitV, (original) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return original(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as {
      numOrSizeSplits: number | number[];
      axis: number;
    };
    const along = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, along);
    const start = x.shape.map(() => 0);
    return sizes.map((part) => {
      const extent = [...x.shape];
      extent[along] = part;
      const piece = slice(args.backend as WasmBackend, x, start, extent);
      start[along]! += part;
      return piece;
    });
  });
  overrideKernelOnWasm(tf.Unpack, (original) => (args) => {
    const x = args.inputs.value as tf.TensorInfo;
    if (x.dtype === 'string') return original(args);
    const along = tf.util.parseAxisParam((args.attrs as unknown as { axis: number }).axis, x.shape)[0]!;
    const extent = [...x.shape];
    extent[along] = 1;
    const outShape = x.shape.filter((_, i) => i !== along);
    return Array.from({ length: x.shape[along]! }, (_, i) => {
      const start = x.shape.map((__, axis) => (axis === along ? i : 0));
      return { ...slice(args.backend as WasmBackend, x, start, extent), shape: outShape };
    });
  });
}

function slice(backend: WasmBackend, x: tf.TensorInfo, start: number[], extent: number[]): tf.TensorInfo {
  const out = backend.makeOutput(extent, x.dtype);
  if (tf.util.sizeFromShape(extent) === 0) return out;
  // Views only after makeOutput, which may grow (and so move) the heap.
  const [from, to] = [backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out)];
  const runs = sliceRuns(x.shape, start, extent);
  const kernels = simdKernels(backend);
  if (kernels) copyRunsOnHeap(kernels, from, runs, to);
  else copyRuns(from, runs, to);
  return out;
}

/**
 * A slice as contiguous runs of `run` elements, in blocks of `rows` runs `rowStride` apart in the
 * input (block b starts at element blocks[b]); the output takes them back to back.
 */
interface SliceRuns {
  run: number;
  rows: number;
  rowStride: number;
  blocks: number[];
}

function sliceRuns(shape: number[], start: number[], extent: number[]): SliceRuns {
  const strides = [...tf.util.computeStrides(shape), 1];
  // Trailing axes taken whole extend the run along the last axis that is cut.
  let axis = shape.length - 1;
  let run = 1;
  while (axis >= 0 && extent[axis] === shape[axis]) run *= shape[axis--]!;
  if (axis < 0) return { run, rows: 1, rowStride: 0, blocks: [0] };
  run *= extent[axis]!;
  const first = start[axis]! * strides[axis]!;
  if (axis === 0) return { run, rows: 1, rowStride: 0, blocks: [first] };
  const rowAxis = axis - 1;
  const outer = extent.slice(0, rowAxis);
  const blocks = new Array<number>(tf.util.sizeFromShape(outer));
  const index = new Array<number>(rowAxis).fill(0);
  for (let b = 0; b < blocks.length; b++) {
    let offset = first + start[rowAxis]! * strides[rowAxis]!;
    for (let i = 0; i < rowAxis; i++) offset += (start[i]! + index[i]!) * strides[i]!;
    blocks[b] = offset;
    for (let i = rowAxis - 1; i >= 0; i--) {
      if (++index[i]! < outer[i]!) break;
      index[i] = 0;
    }
  }
  return { run, rows: extent[rowAxis]!, rowStride: strides[rowAxis]!, blocks };
}

/** Runs shorter than this copy faster element by element than through a subarray view. */
const SHORT_RUN = 16;

function copyRuns(x: HeapArray, { run, rows, rowStride, blocks }: SliceRuns, out: HeapArray): void {
  let to = 0;
  for (const block of blocks) {
    for (let r = 0, from = block; r < rows; r++, from += rowStride, to += run) {
      if (run < SHORT_RUN) {
        for (let k = 0; k < run; k++) out[to + k] = x[from + k]!;
      } else {
        out.set(x.subarray(from, from + run), to);
      }
    }
  }
}

function copyRunsOnHeap(
  kernels: SimdKernels,
  x: HeapArray,
  { run, rows, rowStride, blocks }: SliceRuns,
  out: HeapArray,
): void {
  const bytes = x.BYTES_PER_ELEMENT;
  const [runBytes, blockBytes] = [run * bytes, rows * run * bytes];
  blocks.forEach((block, b) => {
    const [from, to] = [x.byteOffset + block * bytes, out.byteOffset + b * blockBytes];
    kernels.copyRows(from, rowStride * bytes, to, runBytes, rows, runBytes);
  });
}
