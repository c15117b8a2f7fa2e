import { describe, expect, test } from 'vitest';
import { parseSafetensors, serializeSafetensors, type TensorData } from '../src/weights/index.js';

const f32 = (shape: number[], values: number[]): TensorData => ({
  dtype: 'F32',
  shape,
  data: new Float32Array(values),
});

/** A file from a raw header string and data bytes, with the 8-byte little-endian length. */
function file(header: string, data: Uint8Array = new Uint8Array(0), declaredLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const headerText = (bytes: Uint8Array) => {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + length));
};

describe('serializeSafetensors matches the reference implementation byte for byte', () => {
  // Expected bytes from the reference implementation's own tests (huggingface/safetensors tensor.rs).
  test('one F32 tensor', () => {
    const out = serializeSafetensors(new Map([['attn.0', f32([1, 2, 3], [0, 1, 2, 3, 4, 5])]]));
    expect(Array.from(out)).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101,
      34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34,
      100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0,
      0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
  });

  test('header padded with spaces to a multiple of 8', () => {
    const out = serializeSafetensors(new Map([['attn0', f32([1, 1, 2, 3], [0, 1, 2, 3, 4, 5])]]));
    expect(Array.from(out.subarray(0, 8))).toEqual([72, 0, 0, 0, 0, 0, 0, 0]);
    expect(headerText(out)).toBe('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ');
    expect(out.length).toBe(8 + 72 + 24);
  });

  test('empty file, with and without metadata', () => {
    expect(Array.from(serializeSafetensors(new Map()))).toEqual([
      8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32,
    ]);
    const out = serializeSafetensors(new Map(), { framework: 'pt' });
    expect(Array.from(out)).toEqual([
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34,
      102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
    ]);
  });

  test('orders tensors by descending dtype alignment, then by name', () => {
    const out = serializeSafetensors(
      new Map<string, TensorData>([
        ['b', f32([1], [1])],
        ['half', { dtype: 'F16', shape: [1], data: new Float32Array([1]) }],
        ['a', f32([1], [2])],
        ['ids', { dtype: 'I64', shape: [2], data: new Int32Array([3, 4]) }],
        ['flag', { dtype: 'BOOL', shape: [1], data: new Uint8Array([1]) }],
      ]),
    );
    const header = JSON.parse(headerText(out)) as Record<string, { data_offsets: number[] }>;
    expect(Object.keys(header)).toEqual(['ids', 'a', 'b', 'half', 'flag']);
    expect(Object.values(header).map((info) => info.data_offsets)).toEqual([
      [0, 16],
      [16, 20],
      [20, 24],
      [24, 26],
      [26, 27],
    ]);
  });
});

describe('parseSafetensors', () => {
  test('round trips every writable dtype and re-serializes to identical bytes', () => {
    const tensors = new Map<string, TensorData>([
      ['f32', f32([2, 2], [1.5, -0, 3.4e38, 1e-45])],
      ['f16', { dtype: 'F16', shape: [3], data: new Float32Array([1, -2.5, 65504]) }],
      ['bf16', { dtype: 'BF16', shape: [2], data: new Float32Array([1, -3]) }],
      ['f64', { dtype: 'F64', shape: [2], data: new Float64Array([0.5, -8]) }],
      ['i32', { dtype: 'I32', shape: [2], data: new Int32Array([-2147483648, 2147483647]) }],
      ['i64', { dtype: 'I64', shape: [2], data: new BigInt64Array([-5n, 7n]) }],
      ['i16', { dtype: 'I16', shape: [2], data: new Int32Array([-32768, 32767]) }],
      ['u16', { dtype: 'U16', shape: [1], data: new Int32Array([65535]) }],
      ['i8', { dtype: 'I8', shape: [2], data: new Int32Array([-128, 127]) }],
      ['u8', { dtype: 'U8', shape: [2], data: new Int32Array([0, 255]) }],
      ['mask', { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) }],
      ['scalar', f32([], [42])],
      ['empty', f32([0, 3], [])],
    ]);
    const bytes = serializeSafetensors(tensors, { format: 'pt', note: 'ünïcode' });
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({ format: 'pt', note: 'ünïcode' });
    expect(parsed.tensors.size).toBe(tensors.size);
    for (const [name, original] of tensors) {
      const got = parsed.tensors.get(name)!;
      expect(got.dtype, name).toBe(original.dtype);
      expect(got.shape, name).toEqual(original.shape);
      expect(Array.from(got.data as ArrayLike<number>), name).toEqual(Array.from(original.data, Number));
    }
    expect(Object.is(parsed.tensors.get('f32')!.data[1], -0)).toBe(true);
    expect(parsed.tensors.get('f16')!.data).toBeInstanceOf(Float32Array);
    expect(parsed.tensors.get('f64')!.data).toBeInstanceOf(Float32Array);
    expect(parsed.tensors.get('i64')!.data).toBeInstanceOf(Int32Array);
    expect(parsed.tensors.get('u8')!.data).toBeInstanceOf(Int32Array);
    expect(parsed.tensors.get('mask')!.data).toBeInstanceOf(Uint8Array);
    expect(serializeSafetensors(parsed.tensors, parsed.metadata)).toEqual(bytes);
  });

  test('lists tensors in file order and copies data out of the input', () => {
    const bytes = serializeSafetensors(
      new Map([
        ['b', f32([1], [2])],
        ['a', f32([1], [1])],
      ]),
    );
    const parsed = parseSafetensors(bytes);
    expect([...parsed.tensors.keys()]).toEqual(['a', 'b']);
    bytes.fill(0);
    expect(Array.from(parsed.tensors.get('b')!.data as Float32Array)).toEqual([2]);
  });

  test('reads from a view at an unaligned offset into a larger buffer', () => {
    const bytes = serializeSafetensors(new Map([['x', f32([2], [1.25, -7])]]));
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 1);
    const parsed = parseSafetensors(padded.subarray(1, 1 + bytes.length));
    expect(Array.from(parsed.tensors.get('x')!.data as Float32Array)).toEqual([1.25, -7]);
  });

  test('I64: int32 with a range check by default, BigInt64Array on request', () => {
    const big = new BigInt64Array([1n, 2n ** 40n]);
    const bytes = serializeSafetensors(
      new Map([['ids', { dtype: 'I64', shape: [2], data: big } as TensorData]]),
    );
    expect(() => parseSafetensors(bytes)).toThrow(
      /"ids": int64 value 1099511627776 at index 1 does not fit in int32/,
    );
    expect(parseSafetensors(bytes, { int64: 'bigint' }).tensors.get('ids')!.data).toEqual(big);
  });

  test('F64 is read as float32', () => {
    const bytes = serializeSafetensors(
      new Map([['x', { dtype: 'F64', shape: [1], data: new Float64Array([0.1]) } as TensorData]]),
    );
    expect(parseSafetensors(bytes).tensors.get('x')!.data).toEqual(new Float32Array([0.1]));
  });
});

describe('parseSafetensors refuses corrupt files with a clear message', () => {
  const good = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const eight = new Uint8Array(8);
  const cases: [string, Uint8Array, RegExp][] = [
    ['fewer than 8 bytes', new Uint8Array(5), /truncated header: the file has 5 bytes/],
    [
      'header length beyond the file',
      file(good, eight, 1000n),
      /header length 1000 runs past the end of the file/,
    ],
    ['absurd header length', file(good, eight, 2n ** 50n), /exceeds the 100000000-byte limit/],
    ['invalid JSON', file('{"a":', eight), /header is not valid JSON/],
    [
      'invalid UTF-8',
      (() => {
        const f = file(`{"a":1}${' '.repeat(1)}`);
        f[10] = 0xff;
        return f;
      })(),
      /not valid UTF-8/,
    ],
    ['not an object', file('[1,2]'), /header is not a JSON object/],
    [
      'unknown dtype',
      file(good.replace('F32', 'F8_E4M3'), eight),
      /"a": unsupported dtype "F8_E4M3" \(supported: BOOL, U8/,
    ],
    [
      'bad shape',
      file(good.replace('[2]', '[-2]'), eight),
      /"a": shape \[-2\] is not a list of non-negative integers/,
    ],
    ['bad offsets', file(good.replace('[0,8]', '[0]'), eight), /"a": data_offsets \[0\] is not a pair/],
    ['reversed offsets', file(good.replace('[0,8]', '[8,0]'), eight), /end before they begin/],
    [
      'offsets out of range',
      file(good.replace('[0,8]', '[0,16]').replace('[2]', '[4]'), eight),
      /out of range \(the data section has 8 bytes\)/,
    ],
    [
      'byte count mismatch',
      file(good.replace('[2]', '[3]'), eight),
      /dtype F32 with shape \[3\] needs 12 bytes, but data_offsets \[0, 8\] hold 8/,
    ],
    [
      'overlapping tensors',
      file(
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        eight,
      ),
      /"b" data \[4, 8\) overlaps the previous tensor/,
    ],
    [
      'gap between tensors',
      file(
        '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}}',
        eight,
      ),
      /gap in the data: bytes \[4, 6\) belong to no tensor/,
    ],
    [
      'data not covered',
      file(good, new Uint8Array(12)),
      /data section has 12 bytes but the tensors cover only 8/,
    ],
    [
      'metadata not strings',
      file('{"__metadata__":{"n":1}}'),
      /"__metadata__" value for "n" is not a string/,
    ],
    [
      'bool byte other than 0/1',
      file('{"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}', new Uint8Array([1, 2])),
      /"m" \(BOOL\) holds byte 2 at 1/,
    ],
  ];
  test.each(cases)('%s', (_, bytes, message) => {
    expect(() => parseSafetensors(bytes)).toThrow(message);
  });

  test('the unmodified file parses', () => {
    expect(parseSafetensors(file(good, eight)).tensors.get('a')!.shape).toEqual([2]);
  });
});

describe('serializeSafetensors refuses inconsistent input', () => {
  test('value count, range, reserved name and unknown dtype', () => {
    expect(() => serializeSafetensors(new Map([['a', f32([2, 2], [1, 2, 3])]]))).toThrow(
      /"a": shape \[2, 2\] needs 4 values, found 3/,
    );
    const wide = { dtype: 'I32', shape: [1], data: new Float32Array([2 ** 31]) } as TensorData;
    expect(() => serializeSafetensors(new Map([['w', wide]]))).toThrow(
      /"w": value 2147483648 at index 0 cannot be stored as I32/,
    );
    const fraction = { dtype: 'I64', shape: [1], data: new Float32Array([0.5]) } as TensorData;
    expect(() => serializeSafetensors(new Map([['q', fraction]]))).toThrow(/cannot be stored as I64/);
    expect(() => serializeSafetensors(new Map([['__metadata__', f32([1], [1])]]))).toThrow(/reserved/);
    const odd = { dtype: 'C64', shape: [1], data: new Float32Array(1) } as unknown as TensorData;
    expect(() => serializeSafetensors(new Map([['c', odd]]))).toThrow(/unsupported dtype "C64"/);
  });
});
