/** The backends `selectBackend` can load; `tensorflow` and `tensorflow-gpu` are tfjs-node. */
export const BACKEND_NAMES = ['cpu', 'wasm', 'webgl', 'webgpu', 'tensorflow', 'tensorflow-gpu'] as const;

export type BackendName = (typeof BACKEND_NAMES)[number];

/** A backend, or `auto`: in Node `DALLE2_BACKEND` or else `wasm`; in a browser webgpu, webgl, wasm. */
export type BackendChoice = BackendName | 'auto';

const CHOICES: readonly string[] = ['auto', ...BACKEND_NAMES];

export function parseBackendChoice(name: string): BackendChoice {
  if (CHOICES.includes(name)) return name as BackendChoice;
  throw new Error(`Unknown backend '${name}'. Valid backends: ${CHOICES.join(', ')}.`);
}
