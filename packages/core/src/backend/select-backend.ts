import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, parseBackendChoice } from './backend-names.js';
import { type BackendDescription, describeBackend } from './describe-backend.js';
import { importBackendPackage, importWasmBackend } from './import-backend-package.js';
import { isNode } from './is-node.js';
import { nodeBuiltins } from './node-builtin.js';
import { installNodeWebGPU } from './node-webgpu.js';
import { resolveAutoBackend } from './resolve-auto-backend.js';
import { registerWasmGradients } from './wasm-gradients/register-wasm-gradients.js';
import { withNodeWasm } from './wasm-node-setup.js';
import { registerWebGpuKernels } from './webgpu-kernels/register-webgpu-kernels.js';

export interface SelectBackendOptions {
  /**
   * wasm in Node: XNNPACK threads (default: every core; at most the core count and 8). It counts
   * only for the first wasm start in a process, since the module starts once.
   */
  wasmThreads?: number;
}

/** The name each backend registers itself under in tfjs. */
const TFJS_NAMES: Record<BackendName, string> = {
  cpu: 'cpu',
  wasm: 'wasm',
  webgl: 'webgl',
  webgpu: 'webgpu',
  tensorflow: 'tensorflow',
  'tensorflow-gpu': 'tensorflow',
};

const REGISTRATION_HINTS: Partial<Record<BackendName, string>> = {
  webgl: ' (tfjs-backend-webgl registers only in browsers)',
  webgpu: ' (tfjs-backend-webgpu registers only where navigator.gpu exists)',
};

/**
 * Loads a backend's package on demand and makes it tfjs' active backend. `name` is one of
 * `BACKEND_NAMES` or `auto` (the default; see `BackendChoice`).
 */
export async function selectBackend(
  name = 'auto',
  options: SelectBackendOptions = {},
): Promise<BackendDescription> {
  const choice = parseBackendChoice(name);
  const backend = choice === 'auto' ? await resolveAutoBackend() : choice;
  const tfjsName = TFJS_NAMES[backend];

  if (backend === 'wasm') {
    await startWasm(options.wasmThreads);
  } else {
    if (backend === 'webgpu' && isNode()) await installNodeWebGPU();
    await importBackendPackage(backend);
    // Our webgpu kernels replace some of the package's, which must be registered first.
    if (backend === 'webgpu') registerWebGpuKernels();
    await activate(backend, tfjsName);
  }
  return describeBackend();
}

/** The same as `selectBackend`, under tfjs' name for it. */
export const setBackend = selectBackend;

async function startWasm(threads: number | undefined): Promise<void> {
  const wasm = await importWasmBackend();
  // A bundle may load tfjs' own gradients after ours; the wasm overrides must stay on top.
  registerWasmGradients();
  const builtins = nodeBuiltins();
  const started = tf.engine().registry.wasm !== undefined;
  if (started || !builtins) return activate('wasm', 'wasm');
  await withNodeWasm(wasm, builtins, threads, () => activate('wasm', 'wasm'));
}

async function activate(backend: BackendName, tfjsName: string): Promise<void> {
  if (tf.findBackendFactory(tfjsName) === null) {
    const hint = REGISTRATION_HINTS[backend] ?? '';
    throw new Error(`The '${backend}' backend did not register itself with tfjs${hint}.`);
  }
  const ok = await tf.setBackend(tfjsName);
  if (!ok) throw new Error(`The '${backend}' backend failed to start; tfjs logged the reason above.`);
}
