import type { Step } from './measure.js';

export const BENCH_BACKENDS = ['wasm', 'cpu', 'webgpu'] as const;
export type BenchBackend = (typeof BENCH_BACKENDS)[number];

/** A built model and inputs on the active backend, ready to be timed. */
export interface Prepared {
  step: Step;
  dispose(): void;
}

export interface MeasurementSpec {
  /** Stable across runs: `--compare` matches on it. */
  name: string;
  /** The backends it runs on; the others skip it (cpu: too slow for the big models). */
  backends: readonly BenchBackend[];
  /** Images (or prompts) per call. */
  batch: number;
  /** Timed repetitions per backend, after one untimed warm-up. */
  reps: Partial<Record<BenchBackend, number>> & { wasm: number };
  /** FLOPs of one call where they are counted. */
  flops?: number;
  note?: string;
  /** Why it is not run on any backend (it is listed in the report's `notRun`). */
  notRun?: string;
  /** Builds the model and the inputs, seeded, on the active backend. */
  prepare(): Promise<Prepared> | Prepared;
}

export interface Suite {
  name: string;
  description: string;
  measurements: MeasurementSpec[];
}
