import type * as tf from '@tensorflow/tfjs-core';
import { type SimdKernels, simdKernels } from '../wasm-simd/simd-kernels.js';
import type { WasmBackend } from './override-kernel-on-wasm.js';

/**
 * Whole-sample passes over NHWC float32 tensors on the wasm heap with per-channel constants: one
 * sample is `pixels` rows of `channels` values from element `start`. The per-channel vectors
 * ([channels]) go in and come out as Float64Array.
 */
export interface ChannelPasses {
  /** sum over pixels of x */
  sums(x: tf.TensorInfo, start: number, pixels: number): Float64Array;
  /** sum over pixels of (x - mean)^2 */
  squaredDeviationSums(x: tf.TensorInfo, start: number, pixels: number, mean: Float64Array): Float64Array;
  /** [sum over pixels of dy, sum over pixels of dy x] */
  sumsWithProducts(
    dy: tf.TensorInfo,
    x: tf.TensorInfo,
    start: number,
    pixels: number,
  ): [Float64Array, Float64Array];
  /** y = x scale + shift */
  affine(
    x: tf.TensorInfo,
    start: number,
    pixels: number,
    scale: Float64Array,
    shift: Float64Array,
    y: tf.TensorInfo,
  ): void;
  /** out = dy a + x b + k */
  affinePair(
    dy: tf.TensorInfo,
    x: tf.TensorInfo,
    start: number,
    pixels: number,
    coefficients: [a: Float64Array, b: Float64Array, k: Float64Array],
    out: tf.TensorInfo,
  ): void;
  /** Frees the scratch memory; call once the passes are done. */
  dispose(): void;
}

/**
 * The passes for `channels` channels on `wasm`: the SIMD kernels when they run there and the
 * channels come in fours, else plain loops. Allocates scratch memory on the heap: create it after
 * the kernel's outputs.
 */
export function channelPasses(wasm: WasmBackend, channels: number): ChannelPasses {
  const kernels = channels % 4 === 0 ? simdKernels(wasm) : undefined;
  return kernels ? simdPasses(wasm, kernels, channels) : loopPasses(wasm, channels);
}

function simdPasses(wasm: WasmBackend, kernels: SimdKernels, channels: number): ChannelPasses {
  // Four per-channel float32 vectors on the heap for the kernels' inputs and outputs.
  const scratch = wasm.makeOutput([4 * channels], 'float32');
  const base = wasm.typedArrayFromHeap(scratch).byteOffset;
  const slot = (i: number) => base + 4 * i * channels;
  const view = () => wasm.typedArrayFromHeap(scratch) as Float32Array;
  const write = (i: number, values: Float64Array) => view().set(values, i * channels);
  const read = (i: number) => Float64Array.from(view().subarray(i * channels, (i + 1) * channels));
  const at = (t: tf.TensorInfo, start: number) => wasm.typedArrayFromHeap(t).byteOffset + 4 * start;
  return {
    sums(x, start, pixels) {
      kernels.channelSums(at(x, start), pixels, channels, slot(0));
      return read(0);
    },
    squaredDeviationSums(x, start, pixels, mean) {
      write(1, mean);
      kernels.channelSquaredDeviationSums(at(x, start), pixels, channels, slot(1), slot(0));
      return read(0);
    },
    sumsWithProducts(dy, x, start, pixels) {
      kernels.channelSumsWithProducts(at(dy, start), at(x, start), pixels, channels, slot(0), slot(1));
      return [read(0), read(1)];
    },
    affine(x, start, pixels, scale, shift, y) {
      write(0, scale);
      write(1, shift);
      kernels.channelAffine(at(x, start), pixels, channels, slot(0), slot(1), at(y, start));
    },
    affinePair(dy, x, start, pixels, [a, b, k], out) {
      write(0, a);
      write(1, b);
      write(2, k);
      const [dyAt, xAt, outAt] = [at(dy, start), at(x, start), at(out, start)];
      kernels.channelAffinePair(dyAt, xAt, pixels, channels, slot(0), slot(1), slot(2), outAt);
    },
    dispose: () => wasm.disposeData(scratch.dataId),
  };
}

/**
 * Each pass one flat loop over the sample, the channel counted alongside: short inner loops over a
 * group's few channels cost more than the arithmetic.
 */
function loopPasses(wasm: WasmBackend, channels: number): ChannelPasses {
  const floats = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t) as Float32Array;
  return {
    sums(x, start, pixels) {
      const xs = floats(x);
      const sums = new Float64Array(channels);
      for (let i = start, end = start + pixels * channels, ch = 0; i < end; i++) {
        sums[ch]! += xs[i]!;
        if (++ch === channels) ch = 0;
      }
      return sums;
    },
    squaredDeviationSums(x, start, pixels, mean) {
      const xs = floats(x);
      const sums = new Float64Array(channels);
      for (let i = start, end = start + pixels * channels, ch = 0; i < end; i++) {
        const d = xs[i]! - mean[ch]!;
        sums[ch]! += d * d;
        if (++ch === channels) ch = 0;
      }
      return sums;
    },
    sumsWithProducts(dy, x, start, pixels) {
      const [dys, xs] = [floats(dy), floats(x)];
      const sums = new Float64Array(channels);
      const productSums = new Float64Array(channels);
      for (let i = start, end = start + pixels * channels, ch = 0; i < end; i++) {
        const d = dys[i]!;
        sums[ch]! += d;
        productSums[ch]! += d * xs[i]!;
        if (++ch === channels) ch = 0;
      }
      return [sums, productSums];
    },
    affine(x, start, pixels, scale, shift, y) {
      const [xs, ys] = [floats(x), floats(y)];
      for (let i = start, end = start + pixels * channels, ch = 0; i < end; i++) {
        ys[i] = xs[i]! * scale[ch]! + shift[ch]!;
        if (++ch === channels) ch = 0;
      }
    },
    affinePair(dy, x, start, pixels, [a, b, k], out) {
      const [dys, xs, outs] = [floats(dy), floats(x), floats(out)];
      for (let i = start, end = start + pixels * channels, ch = 0; i < end; i++) {
        outs[i] = dys[i]! * a[ch]! + xs[i]! * b[ch]! + k[ch]!;
        if (++ch === channels) ch = 0;
      }
    },
    dispose: () => {},
  };
}
