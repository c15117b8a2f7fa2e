import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { parseSafetensors, safetensorsFromTensors, tensorsFromSafetensors } from '../src/weights/index.js';

describe('tf tensors <-> safetensors', () => {
  test('round trips float32, int32 and bool tensors exactly, without leaking', async () => {
    const tensors = new Map<string, tf.Tensor>([
      [
        'w',
        tf.tensor2d(
          [
            [1.5, -0],
            [Number.MIN_VALUE, 3e38],
          ],
          [2, 2],
          'float32',
        ),
      ],
      ['ids', tf.tensor1d([0, -7, 2147483647], 'int32')],
      ['mask', tf.tensor1d([true, false], 'bool')],
    ]);
    const before = tf.memory().numTensors;
    const bytes = await safetensorsFromTensors(tensors, { metadata: { format: 'pt' } });
    expect(tf.memory().numTensors).toBe(before);

    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({ format: 'pt' });
    expect(parsed.tensors.get('ids')!.dtype).toBe('I32');
    const back = tensorsFromSafetensors(parsed.tensors);
    expect(tf.memory().numTensors).toBe(before + 3);
    for (const [name, original] of tensors) {
      const got = back.get(name)!;
      expect(got.dtype, name).toBe(original.dtype);
      expect(got.shape, name).toEqual(original.shape);
      expect(await got.data(), name).toEqual(await original.data());
    }
    for (const t of [...tensors.values(), ...back.values()]) t.dispose();
  });

  test('writes float16 and int64 on request', async () => {
    const tensors = new Map<string, tf.Tensor>([
      ['w', tf.tensor1d([1, 0.1])],
      ['ids', tf.tensor1d([3, 4], 'int32')],
    ]);
    const parsed = parseSafetensors(
      await safetensorsFromTensors(tensors, { floatDtype: 'F16', intDtype: 'I64' }),
    );
    expect(parsed.tensors.get('w')!.dtype).toBe('F16');
    expect(Array.from(parsed.tensors.get('w')!.data as Float32Array)).toEqual([1, 0.0999755859375]);
    expect(parsed.tensors.get('ids')!.dtype).toBe('I64');
    expect(Array.from(parsed.tensors.get('ids')!.data as Int32Array)).toEqual([3, 4]);
    for (const t of tensors.values()) t.dispose();
  });

  test('tensors do not share memory with the decoded arrays', async () => {
    const data = new Float32Array([1, 2]);
    const [tensor] = tensorsFromSafetensors(new Map([['x', { dtype: 'F32', shape: [2], data }]])).values();
    data[0] = 99;
    expect(Array.from(await tensor!.data())).toEqual([1, 2]);
    tensor!.dispose();
  });

  test('BigInt64 values out of int32 range fail and leave nothing allocated', () => {
    const before = tf.memory().numTensors;
    const entries = new Map([
      ['ok', { dtype: 'F32' as const, shape: [1], data: new Float32Array([1]) }],
      ['ids', { dtype: 'I64' as const, shape: [1], data: new BigInt64Array([2n ** 35n]) }],
    ]);
    expect(() => tensorsFromSafetensors(entries)).toThrow(
      /"ids": int64 value 34359738368 at index 0 does not fit in int32/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
