import * as tf from '@tensorflow/tfjs-core';
import type { TensorData } from './tensor-data.js';
import { tfDtypeOf, toTfValues } from './tf-values.js';

/**
 * Make tf tensors (float32, int32 or bool) from decoded safetensors entries, as stored: no layout
 * conversion. The caller owns the tensors; nothing is left allocated when a conversion fails.
 */
export function tensorsFromSafetensors(tensors: ReadonlyMap<string, TensorData>): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  try {
    for (const [name, entry] of tensors) {
      const dtype = tfDtypeOf(entry.dtype);
      out.set(name, tf.tensor(toTfValues(name, entry.data, dtype), [...entry.shape], dtype));
    }
  } catch (error) {
    for (const tensor of out.values()) tensor.dispose();
    throw error;
  }
  return out;
}
