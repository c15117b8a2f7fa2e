// Pieces of a reverse step that the schedulers share; each runs inside the caller's tf.tidy.
import { defaultGenerator } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { dynamicThreshold } from './dynamic-threshold.js';
import type { StepOptions } from './scheduler.js';
import { PREDICTION_TYPES, type PredictionType } from './training-target.js';
import { bool, numberIn, oneOf } from './validate.js';

/** How a scheduler reads the model output and bounds its estimate of x_0; plain JSON. */
export interface PredictionConfig {
  /** Default `'epsilon'`. */
  predictionType?: PredictionType;
  /** Clip x_0 to [-clipSampleRange, clipSampleRange]. Default true. */
  clipSample?: boolean;
  /** Default 1. */
  clipSampleRange?: number;
  /** Imagen's dynamic thresholding of x_0 instead of clipping. Default false. */
  thresholding?: boolean;
  /** Percentile for dynamic thresholding. Default 0.995. */
  dynamicThresholdingRatio?: number;
  /** Largest threshold for dynamic thresholding. Default 1. */
  sampleMaxValue?: number;
}

export function resolvePredictionConfig(
  config: PredictionConfig,
  validPredictionTypes: readonly PredictionType[] = PREDICTION_TYPES,
): Required<PredictionConfig> {
  return {
    predictionType: oneOf('predictionType', config.predictionType ?? 'epsilon', validPredictionTypes),
    clipSample: bool('clipSample', config.clipSample ?? true),
    clipSampleRange: numberIn('clipSampleRange', config.clipSampleRange ?? 1, 0, Number.MAX_VALUE),
    thresholding: bool('thresholding', config.thresholding ?? false),
    dynamicThresholdingRatio: numberIn(
      'dynamicThresholdingRatio',
      config.dynamicThresholdingRatio ?? 0.995,
      0,
      1,
    ),
    sampleMaxValue: numberIn('sampleMaxValue', config.sampleMaxValue ?? 1, 1, Number.MAX_VALUE),
  };
}

/** x_0 implied by the model output at a timestep with cumulative alpha `alphaProd`, clipped or thresholded. */
export function predictOriginal(
  modelOutput: tf.Tensor,
  sample: tf.Tensor,
  alphaProd: number,
  config: Required<PredictionConfig>,
): tf.Tensor {
  const betaProd = 1 - alphaProd;
  let x0: tf.Tensor;
  switch (config.predictionType) {
    case 'epsilon':
      x0 = tf.div(tf.sub(sample, tf.mul(modelOutput, Math.sqrt(betaProd))), Math.sqrt(alphaProd));
      break;
    case 'sample':
      x0 = tf.clone(modelOutput);
      break;
    case 'v_prediction':
      x0 = tf.sub(tf.mul(sample, Math.sqrt(alphaProd)), tf.mul(modelOutput, Math.sqrt(betaProd)));
      break;
  }
  if (config.thresholding) {
    return dynamicThreshold(x0, { ratio: config.dynamicThresholdingRatio, maxValue: config.sampleMaxValue });
  }
  if (config.clipSample) return tf.clipByValue(x0, -config.clipSampleRange, config.clipSampleRange);
  return x0;
}

/**
 * Splits a learned-variance output (twice the sample's channels, channels last) into the
 * prediction and the variance interpolation value in [-1, 1].
 */
export function splitLearnedVariance(
  modelOutput: tf.Tensor,
  sample: tf.Tensor,
): [tf.Tensor, tf.Tensor | null] {
  const axis = modelOutput.rank - 1;
  const channels = sample.shape[axis] ?? 0;
  if (modelOutput.shape[axis] !== 2 * channels) return [modelOutput, null];
  const [output, variance] = tf.split(modelOutput, 2, axis) as [tf.Tensor, tf.Tensor];
  return [output, variance];
}

/** Standard normal noise shaped like `shape`, from the options (row-major draws, like `torch.randn`). */
export function stepNoise(shape: readonly number[], options: StepOptions): tf.Tensor {
  if (options.noise) {
    if (!tf.util.arraysEqual(options.noise.shape, [...shape])) {
      throw new Error(`noise has shape [${options.noise.shape}], expected [${shape}]`);
    }
    return options.noise;
  }
  const generator = options.generator ?? defaultGenerator();
  return tf.tensor(generator.normal(tf.util.sizeFromShape([...shape])), [...shape], 'float32');
}

/** The learned_range standard deviation: exp(0.5 (frac log(large) + (1 - frac) log(small))) with frac = (v + 1) / 2. */
export function learnedStd(predictedVariance: tf.Tensor, small: number, large: number): tf.Tensor {
  const minLog = Math.log(small);
  const maxLog = Math.log(large);
  const frac = tf.div(tf.add(predictedVariance, 1), 2);
  return tf.exp(tf.mul(tf.add(tf.mul(frac, maxLog - minLog), minLog), 0.5));
}
