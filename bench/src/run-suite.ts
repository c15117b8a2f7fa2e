import { selectBackend } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import type { SuiteRun } from './bench-result.js';
import { measureStep } from './measure.js';
import type { BenchBackend, Suite } from './suite.js';
import { describeAdapter, webgpuAdapterInfo } from './webgpu-adapter.js';

/**
 * Runs every measurement of `suite` that `backend` takes, in this process: for each, builds the
 * model, times it, disposes it, and checks that no tensor was left behind.
 */
export async function runSuite(
  suite: Suite,
  backend: BenchBackend,
  log: (line: string) => void,
): Promise<SuiteRun> {
  let description: string;
  try {
    description = (await selectBackend(backend)).summary;
    if (backend === 'webgpu') description += describeAdapter(await webgpuAdapterInfo());
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { backend, status: { available: false, reason }, measurements: [] };
  }
  const measurements: SuiteRun['measurements'] = [];
  for (const spec of suite.measurements) {
    if (!spec.backends.includes(backend) || spec.notRun !== undefined) continue;
    const reps = spec.reps[backend] ?? spec.reps.wasm;
    // The cpu backend has no first-call costs worth another minute of a big model.
    const warmUp = backend !== 'cpu';
    log(`${suite.name} on ${backend}: ${spec.name} (${warmUp ? 'warm-up + ' : ''}${reps})`);
    const tensorsBefore = tf.memory().numTensors;
    const prepared = await spec.prepare();
    let times: Awaited<ReturnType<typeof measureStep>>;
    try {
      times = await measureStep(prepared.step, reps, warmUp);
    } finally {
      prepared.dispose();
    }
    const leaked = tf.memory().numTensors - tensorsBefore;
    if (leaked !== 0) throw new Error(`${spec.name} on ${backend} left ${leaked} tensors behind`);
    const flops = spec.flops ?? null;
    const gflops = flops === null ? null : flops / times.minMs / 1e6;
    log(`  ${times.minMs.toFixed(0)} ms${gflops === null ? '' : `, ${gflops.toFixed(1)} GFLOP/s`}`);
    measurements.push({
      suite: suite.name,
      name: spec.name,
      backend,
      batch: spec.batch,
      reps,
      ...times,
      perImageMs: times.minMs / spec.batch,
      flops,
      gflops,
      ...(spec.note === undefined ? {} : { note: spec.note }),
    });
  }
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  return { backend, status: { available: true, description, maxRssBytes }, measurements };
}
