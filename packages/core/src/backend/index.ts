import './register-gradients.js';

export { BACKEND_NAMES, type BackendChoice, type BackendName } from './backend-names.js';
export { type BackendDescription, describeBackend } from './describe-backend.js';
export { BACKEND_PACKAGES } from './import-backend-package.js';
export { type SelectBackendOptions, selectBackend, setBackend } from './select-backend.js';
export { registerWasmGradients, WASM_GRADIENT_OVERRIDES } from './wasm-gradients/register-wasm-gradients.js';
export { setWasmSimdKernelsEnabled } from './wasm-simd/simd-kernels.js';
export {
  DEFAULT_WEBGPU_KERNELS,
  setWebGpuKernels,
  type WebGpuKernel,
  webGpuKernels,
} from './webgpu-kernels/webgpu-kernels-switch.js';
