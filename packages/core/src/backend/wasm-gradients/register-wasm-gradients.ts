import { overrideGradientOnWasm } from './override-on-wasm.js';
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

/** Installs the wasm gradient overrides on top of tfjs' gradients; safe to call again. */
export function registerWasmGradients(): void {
  overrideGradientOnWasm(conv2dWasmGradConfig);
  overrideGradientOnWasm(conv2dBackpropInputWasmGradConfig);
  overrideGradientOnWasm(gatherV2WasmGradConfig);
  overrideGradientOnWasm(maxPoolWasmGradConfig);
}
