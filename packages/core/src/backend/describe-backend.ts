import * as tf from '@tensorflow/tfjs-core';

/** What runs the tensors now, e.g. `{ name: 'wasm', simd: true, threads: 2, summary: 'wasm, SIMD, 2 threads' }`. */
export interface BackendDescription {
  /** The tfjs backend name (tfjs-node registers itself as `tensorflow`). */
  name: string;
  /** wasm only: whether the SIMD build runs. */
  simd?: boolean;
  /** wasm only: XNNPACK's thread count. */
  threads?: number;
  /** One line for logs and CLIs. */
  summary: string;
}

export function describeBackend(): BackendDescription {
  const name = tf.getBackend();
  if (name !== 'wasm') return { name, summary: name };
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const threads = wasmThreadsCount();
  const parts = [name, simd ? 'SIMD' : 'no SIMD'];
  if (threads !== undefined) parts.push(`${threads} thread${threads === 1 ? '' : 's'}`);
  return { name, simd, ...(threads === undefined ? {} : { threads }), summary: parts.join(', ') };
}

/** The backend's own count (what `getThreadsCount` of tfjs-backend-wasm returns), read from the instance. */
function wasmThreadsCount(): number | undefined {
  const backend = tf.backend() as { wasm?: { tfjs?: { getThreadsCount?(): number } } };
  return backend.wasm?.tfjs?.getThreadsCount?.();
}
