import * as tf from '@tensorflow/tfjs-core';
import { overrideKernelOnWasm, type WasmBackend } from './override-kernel-on-wasm.js';

/**
 * Replaces wasm's Identity kernel, which copies its input, with one that shares the input's memory
 * (as the cpu and webgl backends do; tensors are immutable). tfjs clones every tensor it saves for
 * the backward pass through Identity, so on wasm training copied every saved activation once and
 * held both copies until the step ended.
 */
export function overrideIdentityOnWasm(): void {
  overrideKernelOnWasm(tf.Identity, (original) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return original(args);
    (args.backend as WasmBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}
