// The deterministic inputs of diffusers' scheduler tests (../shared/conformance/README.md).
import * as tf from '@tensorflow/tfjs-core';

export const SAMPLE_SHAPE = [4, 3, 8, 8]; // NCHW, as in the reference

/** x[n, c, h, w] = (((c * 8 + h) * 8 + w) * 4 + n) / 768, or the reversed range for the noise. */
function deterministic(reversed: boolean): tf.Tensor {
  const values = new Float32Array(768);
  for (let n = 0; n < 4; n++)
    for (let c = 0; c < 3; c++)
      for (let h = 0; h < 8; h++)
        for (let w = 0; w < 8; w++) {
          const k = ((c * 8 + h) * 8 + w) * 4 + n;
          values[((n * 3 + c) * 8 + h) * 8 + w] = (reversed ? 767 - k : k) / 768;
        }
  return tf.tensor(values, SAMPLE_SHAPE);
}

export const dummySample = () => deterministic(false);
export const dummyNoise = () => deterministic(true);

/** eps(x, t) = x * t / (t + 1). */
export function dummyModel(x: tf.Tensor, t: number): tf.Tensor {
  return tf.tidy(() => tf.div(tf.mul(x, t), t + 1));
}

/** [sum(|x|), mean(|x|)], read back once. */
export async function sumMeanAbs(x: tf.Tensor): Promise<[number, number]> {
  const values = await x.data();
  let sum = 0;
  for (const v of values) sum += Math.abs(v);
  return [sum, sum / values.length];
}
