import * as tf from '@tensorflow/tfjs-core';

const installed = new WeakSet<tf.KernelConfig>();

/**
 * Replaces the wasm backend's kernel for `kernelName` by `make(original)`, keeping its setup and
 * disposal. Does nothing until the wasm package has registered its own kernel, and nothing when
 * the registered kernel is already a replacement, so that it can run again.
 */
export function overrideKernelOnWasm(
  kernelName: string,
  make: (original: tf.KernelFunc) => tf.KernelFunc,
): void {
  const original = tf.getKernel(kernelName, 'wasm');
  if (!original || installed.has(original)) return;
  const config: tf.KernelConfig = { ...original, kernelFunc: make(original.kernelFunc) };
  installed.add(config);
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel(config);
}

/** The wasm backend's methods that the replacement kernels use (public on `BackendWasm`). */
export interface WasmBackend extends tf.KernelBackend {
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  incRef(dataId: tf.DataId): void;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** A view of the tensor's memory on the wasm heap; invalid once the heap grows. */
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}
