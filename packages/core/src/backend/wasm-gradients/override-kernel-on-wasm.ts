import type * as tf from '@tensorflow/tfjs-core';
import { overrideKernel } from '../override-kernel.js';

/** `overrideKernel` for the wasm backend. */
export function overrideKernelOnWasm(
  kernelName: string,
  make: (original: tf.KernelFunc) => tf.KernelFunc,
): void {
  overrideKernel('wasm', kernelName, make);
}

/** A tensor's memory on the wasm heap, as `typedArrayFromHeap` returns it. */
export type HeapArray = Float32Array | Int32Array | Uint8Array;

/** The wasm backend's methods that the replacement kernels use (public on `BackendWasm`). */
export interface WasmBackend extends tf.KernelBackend {
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  incRef(dataId: tf.DataId): void;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** A view of the tensor's memory on the wasm heap; invalid once the heap grows. */
  typedArrayFromHeap(info: tf.TensorInfo): HeapArray;
}
