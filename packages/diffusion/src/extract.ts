import * as tf from '@tensorflow/tfjs-core';

/** Timesteps, one per sample or one for the whole batch: a number, an array, or an int32 tensor. */
export type Timesteps = number | readonly number[] | tf.Tensor;

function timestepList(t: number | readonly number[]): readonly number[] {
  return typeof t === 'number' ? [t] : t;
}

/** How many timesteps `t` holds (1 broadcasts over the batch). */
export function timestepCount(t: Timesteps): number {
  return t instanceof tf.Tensor ? t.size : timestepList(t).length;
}

/**
 * `values[t]` as float32, shaped [B, 1, ..., 1] with `rank` dimensions so that it broadcasts
 * over a batch whose first axis is B (DALLE2-pytorch's `extract`). An int32 tensor is gathered
 * on the backend, with no read back.
 */
export function extract(values: Float64Array, t: Timesteps, rank: number): tf.Tensor {
  const shapeFor = (n: number) => [n, ...new Array<number>(Math.max(rank - 1, 0)).fill(1)];
  if (t instanceof tf.Tensor) {
    if (t.dtype !== 'int32' || t.rank > 1) {
      throw new Error(`timesteps tensor must be int32 of rank 0 or 1; got ${t.dtype} of rank ${t.rank}`);
    }
    return tf.tidy(() => {
      const table = tf.tensor1d(Float32Array.from(values));
      return tf.reshape(tf.gather(table, tf.reshape(t, [-1])), shapeFor(t.size));
    });
  }
  const list = timestepList(t);
  const gathered = Float32Array.from(list, (step) => {
    const value = values[step];
    if (!Number.isInteger(step) || value === undefined) {
      throw new Error(`timestep ${step} is not an integer in [0, ${values.length})`);
    }
    return value;
  });
  return tf.tensor(gathered, shapeFor(list.length), 'float32');
}

/** Throws unless `t` holds one timestep or one per sample of `x`. */
export function checkTimestepBatch(t: Timesteps, x: tf.Tensor): void {
  const count = timestepCount(t);
  const batch = x.shape[0] ?? 1;
  if (count !== 1 && count !== batch) {
    throw new Error(`got ${count} timesteps for a batch of ${batch}; pass 1 or ${batch}`);
  }
}
