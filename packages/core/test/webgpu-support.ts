import * as tf from '@tensorflow/tfjs-core';
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
