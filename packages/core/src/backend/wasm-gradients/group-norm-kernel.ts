import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackend } from './override-kernel-on-wasm.js';

/** Forward: inputs x [B, H, W, C], weight [C], bias [C]; outputs y, mean [B, G], rstd [B, G]. */
export const GROUP_NORM_KERNEL = 'Dalle2jsGroupNorm';
/** Backward: inputs dy, x, weight, mean, rstd; outputs dx, dWeight [C], dBias [C]. */
export const GROUP_NORM_GRAD_KERNEL = 'Dalle2jsGroupNormGrad';

export interface GroupNormAttrs {
  groups: number;
  eps: number;
}

type Float = Float32Array;

/**
 * GroupNorm over NHWC as two wasm kernels written in plain loops over the heap: one pass for the
 * statistics and one for the output, where the op-by-op version runs about ten kernels over the
 * whole activation (reshape, mean, subtract, square, mean, rsqrt, multiply, scale, shift) and as
 * many again backward. Only for the wasm backend; other backends keep the plain ops.
 */
export function registerGroupNormOnWasm(): void {
  if (tf.getKernel(GROUP_NORM_KERNEL, 'wasm')) return;
  tf.registerKernel({ kernelName: GROUP_NORM_KERNEL, backendName: 'wasm', kernelFunc: groupNormForward });
  tf.registerKernel({
    kernelName: GROUP_NORM_GRAD_KERNEL,
    backendName: 'wasm',
    kernelFunc: groupNormBackward,
  });
}

function groupNormForward({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const { x, weight, bias } = inputs as Record<string, tf.TensorInfo>;
  const { groups, eps } = attrs as unknown as GroupNormAttrs;
  const [b, h, w, c] = x!.shape as [number, number, number, number];
  const y = wasm.makeOutput(x!.shape, 'float32');
  const mean = wasm.makeOutput([b, groups], 'float32');
  const rstd = wasm.makeOutput([b, groups], 'float32');
  // Views only after every makeOutput, which may grow (and so move) the heap.
  const [xs, ws, bs, ys, means, rstds] = [x, weight, bias, y, mean, rstd].map(
    (t) => wasm.typedArrayFromHeap(t!) as Float,
  ) as [Float, Float, Float, Float, Float, Float];
  const pixels = h * w;
  const perGroup = c / groups;
  const count = pixels * perGroup;
  const sums = new Float64Array(groups);
  for (let n = 0; n < b; n++) {
    const base = n * pixels * c;
    sums.fill(0);
    for (let p = 0, i = base; p < pixels; p++) {
      for (let g = 0; g < groups; g++) {
        let s = 0;
        for (let k = 0; k < perGroup; k++, i++) s += xs[i]!;
        sums[g]! += s;
      }
    }
    for (let g = 0; g < groups; g++) means[n * groups + g] = sums[g]! / count;
    // The variance from the centred values (a second pass), as the plain ops compute it.
    sums.fill(0);
    for (let p = 0, i = base; p < pixels; p++) {
      for (let g = 0; g < groups; g++) {
        const m = means[n * groups + g]!;
        let s = 0;
        for (let k = 0; k < perGroup; k++, i++) {
          const d = xs[i]! - m;
          s += d * d;
        }
        sums[g]! += s;
      }
    }
    for (let g = 0; g < groups; g++) rstds[n * groups + g] = 1 / Math.sqrt(sums[g]! / count + eps);
    for (let p = 0, i = base; p < pixels; p++) {
      for (let g = 0, ch = 0; g < groups; g++) {
        const m = means[n * groups + g]!;
        const r = rstds[n * groups + g]!;
        for (let k = 0; k < perGroup; k++, i++, ch++) ys[i] = (xs[i]! - m) * r * ws[ch]! + bs[ch]!;
      }
    }
  }
  return [y, mean, rstd];
}

/**
 * dx = rstd (g - mean(g) - x̂ mean(g x̂)) per group with g = dy * weight; dWeight = sum(dy x̂) and
 * dBias = sum(dy) over batch and pixels.
 */
function groupNormBackward({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const { dy, x, weight, mean, rstd } = inputs as Record<string, tf.TensorInfo>;
  const [b, h, w, c] = x!.shape as [number, number, number, number];
  const groups = mean!.shape[1] as number;
  const dx = wasm.makeOutput(x!.shape, 'float32');
  const dWeight = wasm.makeOutput([c], 'float32');
  const dBias = wasm.makeOutput([c], 'float32');
  const [dys, xs, ws, means, rstds, dxs, dws, dbs] = [dy, x, weight, mean, rstd, dx, dWeight, dBias].map(
    (t) => wasm.typedArrayFromHeap(t!) as Float,
  ) as [Float, Float, Float, Float, Float, Float, Float, Float];
  const pixels = h * w;
  const perGroup = c / groups;
  const count = pixels * perGroup;
  const weightSums = new Float64Array(c);
  const biasSums = new Float64Array(c);
  const gSums = new Float64Array(groups);
  const gxSums = new Float64Array(groups);
  for (let n = 0; n < b; n++) {
    const base = n * pixels * c;
    gSums.fill(0);
    gxSums.fill(0);
    for (let p = 0, i = base; p < pixels; p++) {
      for (let g = 0, ch = 0; g < groups; g++) {
        const m = means[n * groups + g]!;
        const r = rstds[n * groups + g]!;
        let gs = 0;
        let gxs = 0;
        for (let k = 0; k < perGroup; k++, i++, ch++) {
          const d = dys[i]!;
          const xHat = (xs[i]! - m) * r;
          const gi = d * ws[ch]!;
          gs += gi;
          gxs += gi * xHat;
          weightSums[ch]! += d * xHat;
          biasSums[ch]! += d;
        }
        gSums[g]! += gs;
        gxSums[g]! += gxs;
      }
    }
    for (let p = 0, i = base; p < pixels; p++) {
      for (let g = 0, ch = 0; g < groups; g++) {
        const m = means[n * groups + g]!;
        const r = rstds[n * groups + g]!;
        const meanG = gSums[g]! / count;
        const meanGx = gxSums[g]! / count;
        for (let k = 0; k < perGroup; k++, i++, ch++) {
          const xHat = (xs[i]! - m) * r;
          dxs[i] = r * (dys[i]! * ws[ch]! - meanG - xHat * meanGx);
        }
      }
    }
  }
  dws.set(weightSums);
  dbs.set(biasSums);
  return [dx, dWeight, dBias];
}
