// Side effects only: tfjs-core's gradients (bundled into dist by build/tfjs-gradients-plugin.ts,
// since plain Node cannot load tfjs-core's ESM gradient files), then the wasm overrides on top, and
// our webgpu kernels (those replacing tfjs-backend-webgpu's again once it is imported: selectBackend).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { registerWasmGradients } from './wasm-gradients/register-wasm-gradients.js';
import { registerWebGpuKernels } from './webgpu-kernels/register-webgpu-kernels.js';

registerWasmGradients();
registerWebGpuKernels();
