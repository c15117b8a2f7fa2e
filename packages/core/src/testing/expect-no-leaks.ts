import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `fn` twice and returns how many more tensors are alive after the second run than before it.
 * The first run is a warm-up, so lazily created caches and backend constants are not counted.
 * A tensor (or array of tensors) that `fn` returns is disposed, since the caller of `fn` owns it.
 */
export async function countNewTensors(fn: () => unknown): Promise<number> {
  await runAndDispose(fn);
  const before = tf.memory().numTensors;
  await runAndDispose(fn);
  return tf.memory().numTensors - before;
}

/** Throws if a second run of `fn` leaves more (or fewer) tensors alive than before it. */
export async function expectNoLeaks(fn: () => unknown): Promise<void> {
  const leaked = await countNewTensors(fn);
  if (leaked !== 0) {
    throw new Error(
      `expected no tensor leaks, but ${leaked} tensor(s) ${leaked > 0 ? 'leaked' : 'were freed'}`,
    );
  }
}

async function runAndDispose(fn: () => unknown): Promise<void> {
  const result = await fn();
  if (result instanceof tf.Tensor) result.dispose();
  else if (Array.isArray(result)) for (const item of result) if (item instanceof tf.Tensor) item.dispose();
}
