import * as tf from '@tensorflow/tfjs-core';
import { overrideKernelOnWasm, type WasmBackend } from './override-kernel-on-wasm.js';

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
  copySlice(backend.typedArrayFromHeap(x), x.shape, start, extent, backend.typedArrayFromHeap(out));
  return out;
}

/** Runs shorter than this copy faster element by element than through a subarray view. */
const SHORT_RUN = 16;

/** Copies x[start : start + extent] (row-major) into `out`, one contiguous run at a time. */
function copySlice(
  x: Float32Array | Int32Array | Uint8Array,
  shape: number[],
  start: number[],
  extent: number[],
  out: Float32Array | Int32Array | Uint8Array,
): void {
  const strides = tf.util.computeStrides(shape);
  // Trailing axes taken whole extend the run along the last axis that is cut.
  let axis = shape.length - 1;
  let run = 1;
  while (axis >= 0 && extent[axis] === shape[axis]) run *= shape[axis--]!;
  if (axis < 0) {
    out.set(x.subarray(0, run));
    return;
  }
  run *= extent[axis]!;
  const stride = (i: number) => (i === shape.length - 1 ? 1 : strides[i]!);
  const outer = extent.slice(0, axis);
  const count = tf.util.sizeFromShape(outer);
  const index = new Array<number>(axis).fill(0);
  for (let r = 0; r < count; r++) {
    let offset = start[axis]! * stride(axis);
    for (let i = 0; i < axis; i++) offset += (start[i]! + index[i]!) * stride(i);
    if (run < SHORT_RUN) {
      for (let k = 0, to = r * run; k < run; k++) out[to + k] = x[offset + k]!;
    } else {
      out.set(x.subarray(offset, offset + run), r * run);
    }
    for (let i = axis - 1; i >= 0; i--) {
      if (++index[i]! < outer[i]!) break;
      index[i] = 0;
    }
  }
}
