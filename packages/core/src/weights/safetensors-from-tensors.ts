import type * as tf from '@tensorflow/tfjs-core';
import { serializeSafetensors } from './serialize-safetensors.js';
import type { TensorData } from './tensor-data.js';
import { readTensorData, type StoredDtypes } from './tf-values.js';

export interface SafetensorsFromTensorsOptions extends StoredDtypes {
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Serialize tf tensors (read with `await data()`, so any backend works) to safetensors bytes. */
export async function safetensorsFromTensors(
  tensors: ReadonlyMap<string, tf.Tensor>,
  options: SafetensorsFromTensorsOptions = {},
): Promise<Uint8Array> {
  const entries = new Map<string, TensorData>();
  for (const [name, tensor] of tensors) {
    entries.set(name, await readTensorData(name, tensor, tensor.shape, options));
  }
  return serializeSafetensors(entries, options.metadata);
}
