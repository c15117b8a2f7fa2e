// Side effects only: tfjs-core's gradients (bundled into dist by build/tfjs-gradients-plugin.ts,
// since plain Node cannot load tfjs-core's ESM gradient files), then the wasm overrides on top, and
// our webgpu kernels (registered by name: they need no backend package until they run).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { registerWasmGradients } from './wasm-gradients/register-wasm-gradients.js';
import { registerGroupNormOnWebGpu } from './webgpu-kernels/group-norm-webgpu.js';

registerWasmGradients();
registerGroupNormOnWebGpu();
