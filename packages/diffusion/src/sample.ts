import { defaultGenerator, type Rng } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { applyGuidance } from './apply-guidance.js';
import type { Scheduler, StepOptions } from './scheduler.js';

/** A denoiser: returns a new tensor (the loop disposes it) for x_t at timestep t. */
export type DenoiseFn<C> = (xt: tf.Tensor, t: number, cond: C) => tf.Tensor | Promise<tf.Tensor>;

/** Reported after each step. */
export interface SampleProgress {
  /** Steps done, 1-based. */
  step: number;
  totalSteps: number;
  /** The timestep just taken. */
  timestep: number;
}

export interface SampleOptions<C> {
  /** A scheduler after `setTimesteps`; the loop visits `scheduler.timesteps` in order. */
  scheduler: Scheduler<object, StepOptions>;
  model: DenoiseFn<C>;
  /** Shape of x_T, e.g. [B, H, W, C]. */
  shape: readonly number[];
  /** Draws x_T and every step's noise. Default: core's `defaultGenerator()`. */
  generator?: Rng;
  /** Passed to the model unchanged. */
  cond: C;
  /** The model's condition for the unconditional pass of classifier-free guidance. */
  uncond?: C;
  /** Classifier-free guidance scale; values other than 1 need `uncond`. Default 1 (no guidance). */
  guidanceScale?: number;
  /** Start from this x_T (not disposed) instead of drawing it. */
  initialNoise?: tf.Tensor;
  onProgress?: (progress: SampleProgress) => void;
  /** Aborting rejects with the signal's reason at the next step boundary; nothing leaks. */
  signal?: AbortSignal;
}

/**
 * The reverse process driven by the caller's model: x_T ~ N(0, sigma^2 I), then one scheduler
 * step per timestep. Resolves to x_0, which the caller owns.
 */
export async function sample<C>(options: SampleOptions<C>): Promise<tf.Tensor> {
  const { scheduler, model, cond, uncond, signal, onProgress } = options;
  const guidanceScale = options.guidanceScale ?? 1;
  if (guidanceScale !== 1 && uncond === undefined) {
    throw new Error('guidanceScale other than 1 needs `uncond`, the unconditional model input');
  }
  const generator = options.generator ?? defaultGenerator();
  const shape = [...options.shape];
  const timesteps = [...scheduler.timesteps];
  signal?.throwIfAborted();

  let x = options.initialNoise
    ? tf.clone(options.initialNoise)
    : tf.tidy(() =>
        tf.mul(
          tf.tensor(generator.normal(tf.util.sizeFromShape(shape)), shape, 'float32'),
          scheduler.initNoiseSigma,
        ),
      );
  try {
    for (const [i, t] of timesteps.entries()) {
      const prediction = await predict(model, x, t, cond, uncond, guidanceScale);
      try {
        signal?.throwIfAborted();
        const { prevSample, predOriginalSample } = scheduler.step(prediction, t, x, { generator });
        predOriginalSample.dispose();
        x.dispose();
        x = prevSample;
      } finally {
        prediction.dispose();
      }
      onProgress?.({ step: i + 1, totalSteps: timesteps.length, timestep: t });
      signal?.throwIfAborted();
    }
    return x;
  } catch (error) {
    x.dispose();
    throw error;
  }
}

async function predict<C>(
  model: DenoiseFn<C>,
  x: tf.Tensor,
  t: number,
  cond: C,
  uncond: C | undefined,
  guidanceScale: number,
): Promise<tf.Tensor> {
  const conditional = await model(x, t, cond);
  if (guidanceScale === 1 || uncond === undefined) return conditional;
  try {
    const unconditional = await model(x, t, uncond);
    try {
      return applyGuidance(conditional, unconditional, guidanceScale);
    } finally {
      unconditional.dispose();
    }
  } finally {
    conditional.dispose();
  }
}
