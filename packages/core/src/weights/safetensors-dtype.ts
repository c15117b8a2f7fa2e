import { bfloat16ToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16 } from './float16.js';
import type { TensorValues } from './tensor-data.js';

/**
 * The safetensors dtypes this package reads and writes, in the order of the reference
 * implementation's `Dtype` enum: `serializeSafetensors` sorts by it (descending), then by name.
 */
export const SAFETENSORS_DTYPES = [
  'BOOL',
  'U8',
  'I8',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'F32',
  'F64',
  'I64',
] as const;

export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

/** How to decode 64-bit integers: as int32 (throws when a value does not fit) or as BigInt64Array. */
export type Int64Mode = 'int32' | 'bigint';

const BYTES: Record<SafetensorsDtype, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
};

const INTEGER_RANGE: Partial<Record<SafetensorsDtype, readonly [number, number]>> = {
  U8: [0, 255],
  I8: [-128, 127],
  I16: [-32768, 32767],
  U16: [0, 65535],
  I32: [-2147483648, 2147483647],
  I64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && (SAFETENSORS_DTYPES as readonly string[]).includes(value);
}

export function assertSafetensorsDtype(value: unknown, context: string): asserts value is SafetensorsDtype {
  if (!isSafetensorsDtype(value)) {
    throw new Error(
      `${context}: unsupported dtype ${JSON.stringify(value)} (supported: ${SAFETENSORS_DTYPES.join(', ')})`,
    );
  }
}

export function dtypeByteSize(dtype: SafetensorsDtype): number {
  return BYTES[dtype];
}

export function isFloatDtype(dtype: SafetensorsDtype): boolean {
  return dtype === 'F16' || dtype === 'BF16' || dtype === 'F32' || dtype === 'F64';
}

/** Reference ordering of dtypes (alignment order), used to lay tensors out like the reference writer. */
export function dtypeRank(dtype: SafetensorsDtype): number {
  return SAFETENSORS_DTYPES.indexOf(dtype);
}

function assertLittleEndianHost(): void {
  if (!LITTLE_ENDIAN_HOST) throw new Error('safetensors: big-endian hosts are not supported');
}

/** Decode the little-endian bytes of one tensor into a fresh array (never a view of `bytes`). */
export function decodeValues(
  bytes: Uint8Array,
  dtype: SafetensorsDtype,
  name: string,
  int64: Int64Mode = 'int32',
): TensorValues {
  assertLittleEndianHost();
  // slice() copies into a fresh, aligned buffer: tensor offsets in a file need not be aligned.
  const buffer = bytes.slice().buffer;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buffer);
    case 'F64':
      return Float32Array.from(new Float64Array(buffer));
    case 'F16':
      return float16ToFloat32(new Uint16Array(buffer));
    case 'BF16':
      return bfloat16ToFloat32(new Uint16Array(buffer));
    case 'I32':
      return new Int32Array(buffer);
    case 'I16':
      return Int32Array.from(new Int16Array(buffer));
    case 'U16':
      return Int32Array.from(new Uint16Array(buffer));
    case 'I8':
      return Int32Array.from(new Int8Array(buffer));
    case 'U8':
      return Int32Array.from(new Uint8Array(buffer));
    case 'BOOL': {
      const values = new Uint8Array(buffer);
      const bad = values.findIndex((v) => v > 1);
      if (bad >= 0)
        throw new Error(`safetensors: tensor "${name}" (BOOL) holds byte ${values[bad]} at ${bad}`);
      return values;
    }
    case 'I64': {
      const values = new BigInt64Array(buffer);
      return int64 === 'bigint' ? values : bigintsToInt32(values, name);
    }
  }
}

/** int64 -> int32, refusing (not wrapping) values outside the int32 range. */
export function bigintsToInt32(values: BigInt64Array, name: string): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < -2147483648n || v > 2147483647n) {
      throw new RangeError(`tensor "${name}": int64 value ${v} at index ${i} does not fit in int32`);
    }
    out[i] = Number(v);
  }
  return out;
}

/** Encode values as the little-endian bytes of `dtype`, refusing values the dtype cannot hold. */
export function encodeValues(values: TensorValues, dtype: SafetensorsDtype, name: string): Uint8Array {
  assertLittleEndianHost();
  switch (dtype) {
    case 'F32':
      return bytesOf(
        values instanceof Float32Array ? values.slice() : Float32Array.from(numbers(values, name)),
      );
    case 'F64':
      return bytesOf(Float64Array.from(numbers(values, name)));
    case 'F16':
      return bytesOf(float32ToFloat16(asFloat32(values, name)));
    case 'BF16':
      return bytesOf(float32ToBfloat16(asFloat32(values, name)));
    case 'I32':
      return bytesOf(Int32Array.from(integers(values, dtype, name)));
    case 'I16':
      return bytesOf(Int16Array.from(integers(values, dtype, name)));
    case 'U16':
      return bytesOf(Uint16Array.from(integers(values, dtype, name)));
    case 'I8':
      return bytesOf(Int8Array.from(integers(values, dtype, name)));
    case 'U8':
      return Uint8Array.from(integers(values, dtype, name));
    case 'BOOL':
      return Uint8Array.from(integers(values, dtype, name));
    case 'I64':
      return bytesOf(
        values instanceof BigInt64Array
          ? values.slice()
          : BigInt64Array.from(integers(values, dtype, name), (v) => BigInt(v)),
      );
  }
}

function bytesOf(array: { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function asFloat32(values: TensorValues, name: string): Float32Array {
  return values instanceof Float32Array ? values : Float32Array.from(numbers(values, name));
}

function numbers(values: TensorValues, name: string): ArrayLike<number> {
  if (!(values instanceof BigInt64Array)) return values;
  return Array.from(values, (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n))
      throw new RangeError(`tensor "${name}": int64 value ${v} is not exact as a float`);
    return n;
  });
}

function integers(values: TensorValues, dtype: SafetensorsDtype, name: string): ArrayLike<number> {
  const [min, max] = dtype === 'BOOL' ? [0, 1] : INTEGER_RANGE[dtype]!;
  const list = numbers(values, name);
  for (let i = 0; i < list.length; i++) {
    const v = list[i]!;
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(`tensor "${name}": value ${v} at index ${i} cannot be stored as ${dtype}`);
    }
  }
  return list;
}
