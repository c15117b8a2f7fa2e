import { type BackendName, parseBackendChoice } from './backend-names.js';
import { isNode } from './is-node.js';

/**
 * What `auto` means. Node: the backend that `DALLE2_BACKEND` names, else `wasm` (predictable, and
 * needs no GPU driver). Browser: webgpu if an adapter exists, else webgl if a WebGL2 context can
 * be made, else wasm.
 */
export async function resolveAutoBackend(): Promise<BackendName> {
  if (isNode()) {
    const fromEnv = process.env.DALLE2_BACKEND;
    if (!fromEnv) return 'wasm';
    const choice = parseBackendChoice(fromEnv);
    return choice === 'auto' ? 'wasm' : choice;
  }
  if (await hasWebGPUAdapter()) return 'webgpu';
  if (hasWebGL2()) return 'webgl';
  return 'wasm';
}

async function hasWebGPUAdapter(): Promise<boolean> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (!gpu) return false;
  return (await gpu.requestAdapter().catch(() => null)) != null;
}

function hasWebGL2(): boolean {
  try {
    if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(1, 1).getContext('webgl2') != null;
    if (typeof document !== 'undefined') return document.createElement('canvas').getContext('webgl2') != null;
  } catch {
    // A browser that refuses a context counts as one without WebGL.
  }
  return false;
}
