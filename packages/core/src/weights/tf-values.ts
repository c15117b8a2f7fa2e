import type * as tf from '@tensorflow/tfjs-core';
import { bigintsToInt32, isFloatDtype, type SafetensorsDtype } from './safetensors-dtype.js';
import type { TensorData, TensorValues } from './tensor-data.js';

export type TfDtype = 'float32' | 'int32' | 'bool';

/** Which safetensors dtypes tf tensors are written as. */
export interface StoredDtypes {
  /** For float32 tensors. Default 'F32'. */
  readonly floatDtype?: 'F32' | 'F16' | 'BF16';
  /** For int32 tensors; 'I64' matches PyTorch's index tensors. Default 'I32'. */
  readonly intDtype?: 'I32' | 'I64';
}

export function tfDtypeOf(dtype: SafetensorsDtype): TfDtype {
  if (isFloatDtype(dtype)) return 'float32';
  return dtype === 'BOOL' ? 'bool' : 'int32';
}

/** A fresh array tf can own: the cpu backend keeps the array it is given, so never hand it the caller's. */
export function toTfValues(
  name: string,
  data: TensorValues,
  dtype: TfDtype,
): Float32Array | Int32Array | Uint8Array {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array ? data.slice() : Float32Array.from(data, Number);
    case 'int32':
      if (data instanceof Int32Array) return data.slice();
      return data instanceof BigInt64Array ? bigintsToInt32(data, name) : Int32Array.from(data);
    case 'bool':
      return data instanceof BigInt64Array ? Uint8Array.from(data, Number) : Uint8Array.from(data);
  }
}

/** Read a tensor back (async, so it works on backends without dataSync) into a TensorData it does not share. */
export async function readTensorData(
  name: string,
  tensor: tf.Tensor,
  shape: readonly number[],
  dtypes: StoredDtypes = {},
): Promise<TensorData> {
  const values = await tensor.data();
  switch (tensor.dtype) {
    case 'float32':
      return { dtype: dtypes.floatDtype ?? 'F32', shape, data: (values as Float32Array).slice() };
    case 'int32':
      return { dtype: dtypes.intDtype ?? 'I32', shape, data: (values as Int32Array).slice() };
    case 'bool':
      return { dtype: 'BOOL', shape, data: (values as Uint8Array).slice() };
    default:
      throw new Error(`tensor "${name}": dtype ${tensor.dtype} cannot be stored in safetensors`);
  }
}
