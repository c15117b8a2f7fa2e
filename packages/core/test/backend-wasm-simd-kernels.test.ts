import { describe, expect, test } from 'vitest';
import { instantiateSimdKernels, type SimdKernels } from '../src/backend/wasm-simd/simd-kernels.js';

/** Deterministic numbers in [-1, 1). */
function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

/** A bump allocator of 16-byte aligned float32 arrays on a fresh memory. */
function arena(shared: boolean) {
  const memory = new WebAssembly.Memory({
    initial: 64,
    maximum: 65536,
    shared,
  } as WebAssembly.MemoryDescriptor);
  let next = 64;
  const floats = (count: number) => {
    const array = new Float32Array(memory.buffer, next, count);
    next += Math.ceil((4 * count) / 16) * 16 + 16;
    return array;
  };
  return { memory, floats };
}

const memories: [string, boolean][] = [
  ['shared memory (the threaded backend)', true],
  ['unshared memory', false],
];

describe.each(memories)('wasm SIMD kernels on a %s', (_, shared) => {
  const setup = () => {
    const heap = arena(shared);
    const kernels = instantiateSimdKernels(heap.memory) as SimdKernels;
    expect(kernels).not.toBeNull();
    return { ...heap, kernels };
  };

  test.each([3, 8, 17, 100])(
    'copyRows copies strided runs of %i floats, and the odd bytes of a run',
    (run) => {
      const { floats, kernels } = setup();
      const rows = 5;
      const srcStride = run + 7;
      const src = floats(rows * srcStride);
      src.set(values(src.length, run));
      const dst = floats(rows * run + 1);
      dst[rows * run] = 42; // a sentinel after the last run
      kernels.copyRows(src.byteOffset, 4 * srcStride, dst.byteOffset, 4 * run, rows, 4 * run);
      for (let r = 0; r < rows; r++) {
        expect(Array.from(dst.subarray(r * run, (r + 1) * run))).toEqual(
          Array.from(src.subarray(r * srcStride, r * srcStride + run)),
        );
      }
      expect(dst[rows * run]).toBe(42);
      const bytes = new Uint8Array(src.buffer, src.byteOffset, 4 * src.length);
      const target = new Uint8Array(dst.buffer, dst.byteOffset, 4 * dst.length).fill(0);
      kernels.copyRows(bytes.byteOffset + 1, 19, target.byteOffset, 18, 2, 18); // runs of 18 bytes
      expect(Array.from(target.subarray(0, 36))).toEqual([
        ...bytes.subarray(1, 19),
        ...bytes.subarray(20, 38),
      ]);
      expect(target[36]).toBe(0);
    },
  );

  test('transpose32 transposes a block of a larger matrix into a block of another', () => {
    const { floats, kernels } = setup();
    const [rows, cols, srcCols, dstCols] = [8, 72, 75, 9];
    const src = floats(rows * srcCols);
    src.set(values(src.length, 5));
    const dst = floats(cols * dstCols).fill(-7);
    kernels.transpose32(src.byteOffset, 4 * srcCols, dst.byteOffset, 4 * dstCols, rows, cols);
    for (let j = 0; j < cols; j++) {
      for (let i = 0; i < dstCols; i++) {
        expect(dst[j * dstCols + i]).toBe(i < rows ? src[i * srcCols + j] : -7);
      }
    }
  });

  test('the per-channel passes agree with plain loops', () => {
    const { floats, kernels } = setup();
    const [pixels, channels] = [37, 12];
    const x = floats(pixels * channels);
    const dy = floats(pixels * channels);
    x.set(values(x.length, 1));
    dy.set(values(dy.length, 2));
    const [a, b, k] = [floats(channels), floats(channels), floats(channels)];
    a.set(values(channels, 3));
    b.set(values(channels, 4));
    k.set(values(channels, 6));
    const [sums, productSums, out] = [floats(channels), floats(channels), floats(pixels * channels)];
    const expected = (f: (p: number, c: number) => number) =>
      Array.from({ length: channels }, (_, c) => {
        let total = 0;
        for (let p = 0; p < pixels; p++) total += f(p, c);
        return total;
      });
    const close = (actual: Float32Array, wanted: number[]) =>
      wanted.forEach((value, i) => {
        expect(actual[i]).toBeCloseTo(value, 4);
      });
    const at = (array: Float32Array, p: number, c: number) => array[p * channels + c]!;

    kernels.channelSums(x.byteOffset, pixels, channels, sums.byteOffset);
    close(
      sums,
      expected((p, c) => at(x, p, c)),
    );
    kernels.channelSquaredDeviationSums(x.byteOffset, pixels, channels, a.byteOffset, sums.byteOffset);
    close(
      sums,
      expected((p, c) => (at(x, p, c) - a[c]!) ** 2),
    );
    kernels.channelSumsWithProducts(
      dy.byteOffset,
      x.byteOffset,
      pixels,
      channels,
      sums.byteOffset,
      productSums.byteOffset,
    );
    close(
      sums,
      expected((p, c) => at(dy, p, c)),
    );
    close(
      productSums,
      expected((p, c) => at(dy, p, c) * at(x, p, c)),
    );
    kernels.channelAffine(x.byteOffset, pixels, channels, a.byteOffset, b.byteOffset, out.byteOffset);
    out.forEach((value, i) => {
      expect(value).toBeCloseTo(x[i]! * a[i % channels]! + b[i % channels]!, 5);
    });
    kernels.channelAffinePair(
      dy.byteOffset,
      x.byteOffset,
      pixels,
      channels,
      a.byteOffset,
      b.byteOffset,
      k.byteOffset,
      out.byteOffset,
    );
    out.forEach((value, i) => {
      const c = i % channels;
      expect(value).toBeCloseTo(dy[i]! * a[c]! + x[i]! * b[c]! + k[c]!, 5);
    });
  });
});
