import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../nn/module.js';
import { assertPositiveInteger } from './check-shape.js';

export interface SinusoidalEmbeddingOptions {
  /** Default 10000. */
  maxPeriod?: number;
  /** Output [cos, sin] instead of [sin, cos]; default false. */
  flipSinToCos?: boolean;
  /** Frequencies are exp(-ln(maxPeriod) * i / (half - shift)); default 1. */
  downscaleFreqShift?: number;
}

/**
 * diffusers' `get_timestep_embedding`: with half = floor(dim / 2),
 * freq_i = exp(-ln(maxPeriod) * i / (half - downscaleFreqShift)) for i < half, and the output is
 * [sin(t freq), cos(t freq)] (or [cos, sin] with `flipSinToCos`), plus a zero column when dim is odd.
 *
 * The defaults (shift 1, [sin, cos]) equal DALLE2-pytorch's `SinusoidalPosEmb`.
 * guided-diffusion / GLIDE's `timestep_embedding` is `{ downscaleFreqShift: 0, flipSinToCos: true }`.
 *
 * timesteps [B] (any numeric dtype) -> [B, dim]
 */
export function sinusoidalEmbedding(
  timesteps: tf.Tensor1D,
  dim: number,
  options: SinusoidalEmbeddingOptions = {},
): tf.Tensor2D {
  const { maxPeriod = 10000, flipSinToCos = false, downscaleFreqShift = 1 } = options;
  assertPositiveInteger('sinusoidalEmbedding', 'dim', dim);
  if (timesteps.rank !== 1) {
    throw new Error(
      `sinusoidalEmbedding: expected timesteps of shape [B], got [${timesteps.shape.join(', ')}]`,
    );
  }
  const half = Math.floor(dim / 2);
  if (half - downscaleFreqShift <= 0) {
    throw new Error(
      `sinusoidalEmbedding: dim ${dim} is too small for downscaleFreqShift ${downscaleFreqShift} (need floor(dim / 2) > shift)`,
    );
  }
  // Frequencies in float64, rounded once to float32 (the PyTorch references compute them in float32,
  // so an entry can differ from theirs in the last bit).
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++)
    freqs[i] = Math.exp((-Math.log(maxPeriod) * i) / (half - downscaleFreqShift));
  return tf.tidy(() => {
    const args = tf.mul(tf.reshape(tf.cast(timesteps, 'float32'), [-1, 1]), tf.tensor2d(freqs, [1, half])); // [B, half]
    const [first, second] = flipSinToCos ? [tf.cos(args), tf.sin(args)] : [tf.sin(args), tf.cos(args)];
    const parts = [first, second];
    if (dim % 2 === 1) parts.push(tf.zeros([timesteps.shape[0], 1]));
    return tf.concat(parts, 1) as tf.Tensor2D;
  });
}

/** A parameter-free module wrapper around `sinusoidalEmbedding`, like DALLE2-pytorch's `SinusoidalPosEmb`. */
export class SinusoidalTimeEmbedding extends Module {
  constructor(
    readonly dim: number,
    readonly options: SinusoidalEmbeddingOptions = {},
  ) {
    super();
    assertPositiveInteger('SinusoidalTimeEmbedding', 'dim', dim);
  }

  /** [B] -> [B, dim] */
  apply(timesteps: tf.Tensor1D): tf.Tensor2D {
    return sinusoidalEmbedding(timesteps, this.dim, this.options);
  }
}
