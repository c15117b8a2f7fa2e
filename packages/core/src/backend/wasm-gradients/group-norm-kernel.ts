import type * as tf from '@tensorflow/tfjs-core';
import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, type GroupNormAttrs } from '../group-norm-contract.js';
import { registerOwnKernels } from '../override-kernel.js';
import { channelPasses } from './channel-passes.js';
import type { WasmBackend } from './override-kernel-on-wasm.js';

type Float = Float32Array;

/**
 * GroupNorm over NHWC as two wasm kernels made of whole-sample passes over the heap (SIMD where it
 * runs, see channel-passes.ts): forward, two passes for the statistics and one for the output;
 * backward, one pass for the sums and one for dx. The
 * op-by-op version runs about ten kernels over the whole activation each way (reshape, mean,
 * subtract, square, mean, rsqrt, multiply, scale, shift). Only for the wasm backend; other backends
 * keep the plain ops.
 */
export function registerGroupNormOnWasm(): void {
  registerOwnKernels('wasm', {
    [GROUP_NORM_KERNEL]: groupNormForward,
    [GROUP_NORM_GRAD_KERNEL]: groupNormBackward,
  });
}

function groupNormForward({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const { x, weight, bias } = inputs as Record<string, tf.TensorInfo>;
  const { groups, eps } = attrs as unknown as GroupNormAttrs;
  const [b, h, w, c] = x!.shape as [number, number, number, number];
  const y = wasm.makeOutput(x!.shape, 'float32');
  const statistics = wasm.makeOutput([2, b, groups], 'float32');
  const passes = channelPasses(wasm, c);
  try {
    const [ws, bs] = floatViews(wasm, [weight!, bias!]);
    const pixels = h * w;
    const count = pixels * (c / groups);
    const scale = new Float64Array(c);
    const shift = new Float64Array(c);
    for (let n = 0; n < b; n++) {
      const start = n * pixels * c;
      const groupMeans = sumByGroup(passes.sums(x!, start, pixels), groups).map((sum) => sum / count);
      const channelMean = perChannel(groupMeans, c);
      // The variance from the centred values (a second pass), as the plain ops compute it.
      const deviations = passes.squaredDeviationSums(x!, start, pixels, channelMean);
      const groupRstds = sumByGroup(deviations, groups).map((sum) => 1 / Math.sqrt(sum / count + eps));
      const [stats] = floatViews(wasm, [statistics]);
      stats.set(groupMeans, n * groups);
      stats.set(groupRstds, (b + n) * groups);
      // y = (x - mean) rstd weight + bias = x scale + shift
      for (let ch = 0; ch < c; ch++) {
        scale[ch] = groupRstds[groupOf(ch, c, groups)]! * ws[ch]!;
        shift[ch] = bs[ch]! - channelMean[ch]! * scale[ch]!;
      }
      passes.affine(x!, start, pixels, scale, shift, y);
    }
  } finally {
    passes.dispose();
  }
  return [y, statistics];
}

/**
 * dx = rstd (g - mean(g) - x̂ mean(g x̂)) per group with g = dy * weight; dWeight = sum(dy x̂) and
 * dBias = sum(dy) over batch and pixels. One pass gathers sum(dy) and sum(dy x) per channel (x̂ is
 * affine in x within a group, so the sums over x̂ follow from them); a second writes
 * dx = dy a + x b + k with per-channel a, b, k.
 */
function groupNormBackward({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const { dy, x, weight, statistics } = inputs as Record<string, tf.TensorInfo>;
  const [b, h, w, c] = x!.shape as [number, number, number, number];
  const groups = statistics!.shape[2] as number;
  const dx = wasm.makeOutput(x!.shape, 'float32');
  const dWeight = wasm.makeOutput([c], 'float32');
  const dBias = wasm.makeOutput([c], 'float32');
  const passes = channelPasses(wasm, c);
  const weightSums = new Float64Array(c);
  const biasSums = new Float64Array(c);
  try {
    const [ws, stats] = floatViews(wasm, [weight!, statistics!]);
    const pixels = h * w;
    const count = pixels * (c / groups);
    const dyXHatSums = new Float64Array(c);
    const a = new Float64Array(c);
    const bx = new Float64Array(c);
    const k = new Float64Array(c);
    for (let n = 0; n < b; n++) {
      const start = n * pixels * c;
      const [dySums, dyxSums] = passes.sumsWithProducts(dy!, x!, start, pixels);
      const gSums = new Float64Array(groups);
      const gxSums = new Float64Array(groups);
      for (let ch = 0; ch < c; ch++) {
        const g = groupOf(ch, c, groups);
        const m = stats[n * groups + g]!;
        const r = stats[(b + n) * groups + g]!;
        dyXHatSums[ch] = r * (dyxSums[ch]! - m * dySums[ch]!); // sum(dy x̂)
        weightSums[ch]! += dyXHatSums[ch]!;
        biasSums[ch]! += dySums[ch]!;
        gSums[g]! += ws[ch]! * dySums[ch]!;
        gxSums[g]! += ws[ch]! * dyXHatSums[ch]!;
      }
      for (let ch = 0; ch < c; ch++) {
        const g = groupOf(ch, c, groups);
        const m = stats[n * groups + g]!;
        const r = stats[(b + n) * groups + g]!;
        const meanG = gSums[g]! / count;
        const meanGx = gxSums[g]! / count;
        // r (dy w - meanG - (x - m) r meanGx)
        a[ch] = r * ws[ch]!;
        bx[ch] = -r * r * meanGx;
        k[ch] = -r * meanG + m * r * r * meanGx;
      }
      passes.affinePair(dy!, x!, start, pixels, [a, bx, k], dx);
    }
  } finally {
    passes.dispose();
  }
  const [dws, dbs] = floatViews(wasm, [dWeight, dBias]);
  dws.set(weightSums);
  dbs.set(biasSums);
  return [dx, dWeight, dBias];
}

/** float32 views of the tensors on the heap: take them after every makeOutput, which may grow (and so move) it. */
function floatViews<T extends tf.TensorInfo[]>(
  wasm: WasmBackend,
  tensors: [...T],
): { [K in keyof T]: Float } {
  return tensors.map((t) => wasm.typedArrayFromHeap(t) as Float) as { [K in keyof T]: Float };
}

function groupOf(channel: number, channels: number, groups: number): number {
  return Math.floor(channel / (channels / groups));
}

/** A value per group [G] repeated for each of its channels [C] (channels are group-major). */
function perChannel(groupValues: number[], channels: number): Float64Array {
  const groups = groupValues.length;
  return Float64Array.from({ length: channels }, (_, ch) => groupValues[groupOf(ch, channels, groups)]!);
}

/** Per-channel sums [C] added up per group [G] (channels are group-major). */
function sumByGroup(channelSums: Float64Array, groups: number): number[] {
  const perGroup = channelSums.length / groups;
  return Array.from({ length: groups }, (_, g) => {
    let sum = 0;
    for (let ch = g * perGroup; ch < (g + 1) * perGroup; ch++) sum += channelSums[ch]!;
    return sum;
  });
}
