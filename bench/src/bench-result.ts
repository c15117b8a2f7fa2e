/** The JSON that `pnpm bench` writes: one file per run. */
export interface BenchReport {
  /** Format of this file; bumped when a field changes meaning. */
  schema: 1;
  /** ISO time the run started. */
  date: string;
  machine: MachineInfo;
  /** Package versions: tfjs-core, its backends, Dawn (`webgpu`), the dalle2js packages. */
  versions: Record<string, string>;
  /** The fp32 peak the percentages refer to, GFLOP/s (2 cores x 2.6 GHz x 2 FMA x 16 lanes). */
  peakGflops: number;
  /** Per backend: whether it ran, what it is (wasm: SIMD and threads), or why not. */
  backends: Record<string, BackendStatus>;
  /** Suites in the order they ran. */
  suites: string[];
  measurements: Measurement[];
  /** Measurements of the selected suites that no backend runs, and why. */
  notRun: { suite: string; name: string; reason: string }[];
  /** Suites whose process failed on a backend (the run goes on without them). */
  failed: { suite: string; backend: string; error: string }[];
  /** Seconds the whole run took. */
  wallSeconds: number;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  /** 1-minute load average when the run started: other work on the machine slows every number. */
  loadAverage: number;
  commit?: string;
}

export interface BackendStatus {
  available: boolean;
  /** e.g. "wasm, SIMD, 2 threads" or the WebGPU adapter. */
  description?: string;
  /** Why it did not run. */
  reason?: string;
  /** The process's high-water RSS over all of its suites, bytes. */
  maxRssBytes?: number;
}

export interface Measurement {
  suite: string;
  /** Stable across runs: what `--compare` matches on, with `backend`. */
  name: string;
  backend: string;
  /** Images (or prompts) per call. */
  batch: number;
  reps: number;
  /** Every timed repetition, ms (after one untimed warm-up run). */
  timesMs: number[];
  minMs: number;
  medianMs: number;
  /** CPU time of the whole process (every thread) in the fastest repetition, ms. */
  cpuMs: number;
  /** minMs / batch. */
  perImageMs: number;
  /** minMs over wasm's minMs for the same measurement in this run: above 1 is slower than wasm. */
  ratioToWasm: number | null;
  /** Counted FLOPs of one call (see countUNetFlops), or null where not counted. */
  flops: number | null;
  /** flops / minMs. */
  gflops: number | null;
  /** gflops over peakGflops, in percent. */
  percentOfPeak: number | null;
  /** gflops over the same backend's 1024^3 matMul in this run, in percent. */
  percentOfMatMul: number | null;
  /**
   * flops / cpuMs: GFLOP per CPU-second. On a loaded machine the wall time includes waiting for a
   * core; this counts only the time the process ran (an upper bound on the work: wasm's idle
   * threads spin for a while before they sleep).
   */
  gflopsPerCpuSecond: number | null;
  /** gflopsPerCpuSecond over the peak of one core (peakGflops / cores), in percent. */
  percentOfCorePeakByCpuTime: number | null;
  /** tf.memory().numBytes at its highest during the warm-up run (weights included). */
  tfPeakBytes: number;
  /** Process RSS, highest of the samples after each run. */
  rssBytes: number;
  /** Kernels by total time in the warm-up run (tf.profile), the ten largest. */
  topKernels: KernelTime[];
  note?: string;
}

export interface KernelTime {
  kernel: string;
  ms: number;
  calls: number;
}

/** What a child process reports for one suite on one backend. */
export interface SuiteRun {
  backend: string;
  status: BackendStatus;
  measurements: Omit<
    Measurement,
    'ratioToWasm' | 'percentOfPeak' | 'percentOfMatMul' | 'gflopsPerCpuSecond' | 'percentOfCorePeakByCpuTime'
  >[];
}
