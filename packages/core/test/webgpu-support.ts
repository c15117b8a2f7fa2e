import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { selectBackend } from '../src/backend/index.js';

/**
 * Set in CI, where `.ci/install-lavapipe.sh` gives the machine a WebGPU adapter: a missing
 * adapter then fails the WebGPU tests instead of skipping them.
 */
export const REQUIRE_WEBGPU_ENV = 'DALLE2_REQUIRE_WEBGPU';

let cached: Promise<string | null> | undefined;

/**
 * Why this machine cannot run the WebGPU tests, or null when it can. The check is the real path:
 * `selectBackend('webgpu')` (Dawn's `create([])`, an adapter, tfjs-backend-webgpu). Only its
 * "found no GPU adapter" error becomes a reason to skip; any other failure is thrown, as is a
 * missing adapter when DALLE2_REQUIRE_WEBGPU=1. The active backend is the same afterwards (cpu if
 * there was none).
 */
export function webgpuSkipReason(): Promise<string | null> {
  cached ??= detect();
  return cached;
}

async function detect(): Promise<string | null> {
  // Not tf.getBackend(): with none active, it would start the highest-priority registered one.
  const previous: string | undefined = tf.engine().backendName;
  try {
    await selectBackend('webgpu');
    return null;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!message.includes('found no GPU adapter')) throw error;
    const reason =
      'Dawn (the `webgpu` package) finds no WebGPU adapter on this machine; ' +
      'on Debian 12 without a GPU, .ci/install-lavapipe.sh installs one (Mesa lavapipe)';
    if (process.env[REQUIRE_WEBGPU_ENV] === '1') {
      throw new Error(`${REQUIRE_WEBGPU_ENV}=1 but ${reason}`, { cause: error });
    }
    return reason;
  } finally {
    await selectBackend(previous ?? 'cpu');
  }
}

export interface Difference {
  /** max |actual - expected|. */
  absolute: number;
  /** absolute / max |expected|: the error relative to the tensor's scale. */
  relative: number;
}

/**
 * How far `actual` is from `expected`, relative to the largest magnitude in `expected`. Relative
 * per element would blow up rounding noise on entries near zero, where summation order alone
 * changes the result. NaN anywhere (or a length mismatch) gives NaN, which fails every bound.
 */
export function difference(actual: ArrayLike<number>, expected: ArrayLike<number>): Difference {
  if (actual.length !== expected.length) return { absolute: Number.NaN, relative: Number.NaN };
  let absolute = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const gap = Math.abs((actual[i] as number) - (expected[i] as number));
    absolute = gap > absolute || Number.isNaN(gap) ? gap : absolute;
    scale = Math.max(scale, Math.abs(expected[i] as number));
  }
  return { absolute, relative: absolute / Math.max(scale, Number.MIN_VALUE) };
}

/** The default bound of `expectAgreement`: float32 results summed in different orders. */
export const AGREEMENT_TOLERANCE = 1e-4;

/**
 * `compute` on cpu, then on webgpu, from the same host-side inputs; results read with
 * `await t.data()` (Dawn in Node has no synchronous read-back).
 */
export async function onBothBackends(
  compute: () => tf.Tensor[],
): Promise<{ cpu: Float32Array[]; webgpu: Float32Array[] }> {
  const run = async (backend: 'cpu' | 'webgpu') => {
    await selectBackend(backend);
    expect(tf.getBackend()).toBe(backend);
    const outputs = tf.tidy(compute);
    try {
      return await Promise.all(outputs.map(async (t) => Float32Array.from(await t.data())));
    } finally {
      tf.dispose(outputs);
    }
  };
  const cpu = await run('cpu');
  const webgpu = await run('webgpu');
  return { cpu, webgpu };
}

export async function expectAgreement(
  compute: () => tf.Tensor[],
  tolerance = AGREEMENT_TOLERANCE,
): Promise<number> {
  const { cpu, webgpu } = await onBothBackends(compute);
  let worst = 0;
  cpu.forEach((expected, i) => {
    const { relative } = difference(webgpu[i]!, expected);
    expect(relative, `output ${i}`).toBeLessThan(tolerance);
    worst = Math.max(worst, relative);
  });
  return worst;
}

/**
 * Nothing left behind on webgpu: after a warm-up call of `compute`, a second leaves as many
 * tensors and backend buffers as there were before it.
 */
export async function expectNoLeaksOnWebgpu(compute: () => tf.Tensor[]): Promise<void> {
  await selectBackend('webgpu');
  const run = async () => {
    const outputs = tf.tidy(compute);
    await Promise.all(outputs.map((t) => t.data()));
    tf.dispose(outputs);
  };
  await run();
  const before = [tf.memory().numTensors, tf.engine().backend.numDataIds()];
  await run();
  expect([tf.memory().numTensors, tf.engine().backend.numDataIds()]).toEqual(before);
}

/** How many programs `run` dispatches on the active webgpu backend. */
export function countDispatches(run: () => void): number {
  const gpu = tf.backend() as unknown as { runWebGPUProgram: (...args: unknown[]) => unknown };
  const runProgram = gpu.runWebGPUProgram;
  let dispatches = 0;
  gpu.runWebGPUProgram = (...args) => {
    dispatches++;
    return runProgram.apply(gpu, args);
  };
  try {
    run();
  } finally {
    delete (gpu as Partial<typeof gpu>).runWebGPUProgram;
  }
  return dispatches;
}
