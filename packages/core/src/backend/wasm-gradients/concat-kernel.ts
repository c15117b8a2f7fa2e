import * as tf from '@tensorflow/tfjs-core';
import { simdKernels } from '../wasm-simd/simd-kernels.js';
import { overrideKernelOnWasm, type WasmBackend } from './override-kernel-on-wasm.js';

/**
 * Replaces wasm's Concat kernel, where the SIMD kernels run, with one that copies each input's rows
 * in one call. wasm's own copies one row at a time through a new subarray view, which costs more
 * than the copy for the short rows of a concat along channels (a U-Net's skip connections) or
 * along the last axis. Strings and the one-input case stay with the original.
 */
export function overrideConcatOnWasm(): void {
  overrideKernelOnWasm(tf.Concat, (original) => (args) => {
    const inputs = args.inputs as unknown as tf.TensorInfo[];
    const backend = args.backend as WasmBackend;
    const kernels = simdKernels(backend);
    const nonEmpty = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
    const dtype = inputs[0]!.dtype;
    if (!kernels || nonEmpty.length < 2 || dtype === 'string' || dtype === 'complex64') return original(args);
    const axis = tf.util.parseAxisParam(
      (args.attrs as unknown as { axis: number }).axis,
      inputs[0]!.shape,
    )[0]!;
    tf.backend_util.assertParamsConsistent(
      inputs.map((t) => t.shape),
      axis,
    );
    const outShape = tf.backend_util.computeOutShape(
      inputs.map((t) => t.shape),
      axis,
    );
    const out = backend.makeOutput(outShape, inputs[0]!.dtype);
    // Views only after makeOutput, which may grow (and so move) the heap.
    const target = backend.typedArrayFromHeap(out);
    const bytes = target.BYTES_PER_ELEMENT;
    const rows = tf.util.sizeFromShape(outShape.slice(0, axis));
    const outRowBytes = bytes * tf.util.sizeFromShape(outShape.slice(axis));
    let column = target.byteOffset;
    for (const input of nonEmpty) {
      const rowBytes = bytes * tf.util.sizeFromShape(input.shape.slice(axis));
      const source = backend.typedArrayFromHeap(input).byteOffset;
      kernels.copyRows(source, rowBytes, column, outRowBytes, rows, rowBytes);
      column += rowBytes;
    }
    return out;
  });
}
