import { describe, expect, test } from 'vitest';
import {
  bfloat16ToFloat32,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
} from '../src/weights/index.js';

const bitsOf = (values: Float32Array) =>
  Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
const half = (...values: number[]) => Array.from(float32ToFloat16(new Float32Array(values)));
const brain = (...values: number[]) => Array.from(float32ToBfloat16(new Float32Array(values)));

describe('float16', () => {
  test('decodes known bit patterns', () => {
    const decoded = float16ToFloat32(
      new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x3555, 0x8000]),
    );
    expect(Array.from(decoded)).toEqual([1, -2, 65504, 2 ** -24, 2 ** -14, 0.333251953125, -0]);
    expect(Object.is(decoded[6], -0)).toBe(true);
    const special = float16ToFloat32(new Uint16Array([0x7c00, 0xfc00, 0x7e00]));
    expect(Array.from(special)).toEqual([Infinity, -Infinity, NaN]);
  });

  test('every float16 bit pattern survives float16 -> float32 -> float16, NaN payloads included', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = float32ToFloat16(float16ToFloat32(all));
    let mismatches = 0;
    for (let i = 0; i < all.length; i++) if (back[i] !== all[i]) mismatches++;
    expect(mismatches).toBe(0);
  });

  test('rounds to nearest, ties to even, like PyTorch .half()', () => {
    expect(half(1 / 3)).toEqual([0x3555]);
    expect(half(1 + 2 ** -11, 1 + 3 * 2 ** -11)).toEqual([0x3c00, 0x3c02]);
    expect(half(65519, 65520, 1e6, -1e6)).toEqual([0x7bff, 0x7c00, 0x7c00, 0xfc00]);
    expect(half(2 ** -25, 2 ** -25 * 1.5, 3 * 2 ** -25, 2 ** -26)).toEqual([0, 1, 2, 0]);
    expect(half(2 ** -14 - 2 ** -25)).toEqual([0x0400]);
    expect(half(-0, NaN, Infinity)).toEqual([0x8000, 0x7e00, 0x7c00]);
  });

  test('each encoded value is the nearest float16 (random float32 inputs)', () => {
    let state = 12345;
    const inputs = new Float32Array(20000).map(() => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return (state / 2 ** 31 - 0.5) * 2 ** ((state % 40) - 24);
    });
    const encoded = float32ToFloat16(inputs);
    const decoded = float16ToFloat32(encoded);
    for (let i = 0; i < inputs.length; i++) {
      const x = inputs[i]!;
      const error = Math.abs(decoded[i]! - x);
      const neighbours = float16ToFloat32(new Uint16Array([encoded[i]! + 1, encoded[i]! - 1]));
      for (const n of neighbours) if (Number.isFinite(n)) expect(error).toBeLessThanOrEqual(Math.abs(n - x));
    }
  });

  test('reads a Float32Array that is a view into a larger buffer', () => {
    const buffer = new Float32Array([7, 1, 2, 7]);
    expect(Array.from(float32ToFloat16(buffer.subarray(1, 3)))).toEqual([0x3c00, 0x4000]);
  });
});

describe('bfloat16', () => {
  test('decodes exactly and rounds ties to even', () => {
    expect(Array.from(bfloat16ToFloat32(new Uint16Array([0x3f80, 0xc040, 0x7f80])))).toEqual([
      1,
      -3,
      Infinity,
    ]);
    expect(brain(1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20)).toEqual([
      0x3f80, 0x3f80, 0x3f82, 0x3f81,
    ]);
    expect(brain(3.4e38)).toEqual([0x7f80]);
    expect(bfloat16ToFloat32(new Uint16Array(brain(NaN)))[0]).toBeNaN();
  });

  test('keeps a NaN whose payload lives only in the low bits a NaN', () => {
    const nan = new Float32Array(new Uint32Array([0x7f800001]).buffer);
    expect(bitsOf(nan)).toEqual([0x7f800001]);
    expect(Array.from(float32ToBfloat16(nan))).toEqual([0x7fc0]);
  });
});
