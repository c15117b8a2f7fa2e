import * as tf from '@tensorflow/tfjs-core';
import type { KernelTime } from './bench-result.js';

/** One call of the thing measured: it reads its results back (`await t.data()`) and disposes them. */
export type Step = () => Promise<void>;

export interface StepTimes {
  timesMs: number[];
  minMs: number;
  medianMs: number;
  cpuMs: number;
  tfPeakBytes: number;
  rssBytes: number;
  topKernels: KernelTime[];
}

/**
 * Runs `step` once under tf.profile (which gives the peak of tf.memory().numBytes and the time per
 * kernel), untimed when `warmUp` (wasm builds its XNNPACK operators and WebGPU compiles its
 * shaders on a first call), then `reps` times timed; without `warmUp` the profiled run is the
 * first timed one. Times are wall-clock; the CPU time counts every thread of the process.
 */
export async function measureStep(step: Step, reps: number, warmUp: boolean): Promise<StepTimes> {
  let rssBytes = process.memoryUsage.rss();
  const timesMs: number[] = [];
  let cpuMs = Number.POSITIVE_INFINITY;
  let minMs = Number.POSITIVE_INFINITY;
  const timed = async (run: () => Promise<unknown>) => {
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    const result = await run();
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpuBefore);
    timesMs.push(ms);
    if (ms < minMs) {
      minMs = ms;
      cpuMs = (cpu.user + cpu.system) / 1000;
    }
    rssBytes = Math.max(rssBytes, process.memoryUsage.rss());
    return result;
  };
  const profile = (warmUp ? await tf.profile(step) : await timed(() => tf.profile(step))) as ProfileInfo;
  rssBytes = Math.max(rssBytes, process.memoryUsage.rss());
  for (let i = warmUp ? 0 : 1; i < reps; i++) await timed(step);
  return {
    timesMs,
    minMs,
    medianMs: median(timesMs),
    cpuMs,
    tfPeakBytes: profile.peakBytes,
    rssBytes,
    topKernels: topKernels(profile.kernels, 10),
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

type ProfileInfo = Awaited<ReturnType<typeof tf.profile>>;
type KernelInfo = ProfileInfo['kernels'][number];

function topKernels(kernels: KernelInfo[], count: number): KernelTime[] {
  const byName = new Map<string, KernelTime>();
  for (const kernel of kernels) {
    const entry = byName.get(kernel.name) ?? { kernel: kernel.name, ms: 0, calls: 0 };
    entry.ms += typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
    entry.calls += 1;
    byName.set(kernel.name, entry);
  }
  return [...byName.values()]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count)
    .map((entry) => ({ ...entry, ms: Math.round(entry.ms * 10) / 10 }));
}
