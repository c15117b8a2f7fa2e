import type { SafetensorsDtype } from './safetensors-dtype.js';

/** The element arrays a decoded tensor can hold (see `parseSafetensors` for which dtype gives which). */
export type TensorValues = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/**
 * One tensor as plain data: row-major (C order) values with the dtype it is (or will be) stored as.
 * Floating dtypes hold a Float32Array (or Float64Array), integer dtypes an Int32Array (or BigInt64Array
 * for I64), BOOL a Uint8Array of 0 and 1.
 */
export interface TensorData {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: TensorValues;
}

/** Tensors under their PyTorch state-dict keys. */
export type StateDict = Map<string, TensorData>;

export function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
