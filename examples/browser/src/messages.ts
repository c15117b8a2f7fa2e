/** The backends the page offers, fastest first. */
export const PAGE_BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type PageBackend = (typeof PAGE_BACKENDS)[number];

/** Page -> worker. A worker runs one backend for its whole life: the page starts a new one to switch. */
export type ToWorker =
  | { type: 'start'; backend: PageBackend; modelUrl: string; wasmUrl: string }
  | { type: 'generate'; prompt: string; imagesPerPrompt: number; seed: number };

/** Worker -> page. */
export type FromWorker =
  | { type: 'ready'; backend: string; about: string; stages: string[]; imageSize: number; seconds: number }
  | { type: 'progress'; stage: string; step: number; total: number }
  | { type: 'images'; png: Uint8Array[]; seconds: number }
  | { type: 'error'; message: string };
