import { overrideBatchMatMulOnWasm } from './batch-mat-mul-kernel.js';
import { overrideConcatOnWasm } from './concat-kernel.js';
import { registerGroupNormOnWasm } from './group-norm-kernel.js';
import { overrideIdentityOnWasm } from './identity-kernel.js';
import { overrideGradientOnWasm } from './override-on-wasm.js';
import { overrideSliceOnWasm } from './slice-kernel.js';
import { overrideTransposeOnWasm } from './transpose-kernel.js';
import {
  conv2dBackpropInputWasmGradConfig,
  conv2dWasmGradConfig,
  gatherV2WasmGradConfig,
  maxPoolWasmGradConfig,
} from './wasm-grad-configs.js';

/** The kernels whose gradients run on plain ops while wasm is the active backend. */
export const WASM_GRADIENT_OVERRIDES = [
  conv2dWasmGradConfig.kernelName,
  conv2dBackpropInputWasmGradConfig.kernelName,
  gatherV2WasmGradConfig.kernelName,
  maxPoolWasmGradConfig.kernelName,
] as const;

/**
 * Installs the wasm gradient overrides on top of tfjs' gradients and, once the wasm package has
 * registered its kernels, the wasm kernels that training leans on, made faster: BatchMatMul (a
 * matMul's gradient is two transposed matMuls), Slice/SplitV/Unpack, Concat, Transpose, and Identity
 * (which saves every tensor the backward pass needs); and GroupNorm's fused kernels. Safe to call again.
 */
export function registerWasmGradients(): void {
  registerGroupNormOnWasm();
  overrideBatchMatMulOnWasm();
  overrideSliceOnWasm();
  overrideConcatOnWasm();
  overrideIdentityOnWasm();
  overrideTransposeOnWasm();
  overrideGradientOnWasm(conv2dWasmGradConfig);
  overrideGradientOnWasm(conv2dBackpropInputWasmGradConfig);
  overrideGradientOnWasm(gatherV2WasmGradConfig);
  overrideGradientOnWasm(maxPoolWasmGradConfig);
}
