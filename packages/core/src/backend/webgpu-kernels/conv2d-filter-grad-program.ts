import { CONV_GEOMETRY_UNIFORMS } from './conv-kernel.js';
import {
  BLOCK,
  fillTile,
  type GemmTiling,
  splitGemmMain,
  THREADS_PER_SIDE,
  tileCounts,
} from './tiled-gemm.js';
import type { WebGpuProgram } from './webgpu-program.js';

/** Output pixels that a workgroup takes into shared memory per step. */
export const TILE_PIXELS = 16;

/** The sizes of a conv2d filter gradient, passed to the program as uniforms. */
export interface FilterGradSizes {
  /** Filter entries kh * kw * in: the rows of dW. */
  rows: number;
  /** Output channels: the columns of dW. */
  cols: number;
  /** Output pixels N * Ho * Wo summed over. */
  pixels: number;
  splits: number;
  /** Steps of TILE_PIXELS pixels per split of the sum. */
  stepsPerSplit: number;
}

const FILTER_GRAD_UNIFORMS = `rows : i32, cols : i32, pixels : i32, stepsPerSplit : i32, inChannels : i32, ${CONV_GEOMETRY_UNIFORMS}`;

/**
 * Two blocks of rows (filter entries) and of columns (output channels) where there are more than
 * 64: 8 x 8 entries a thread. The shared tiles then take 16 KB, what WebGPU guarantees.
 */
export function filterGradTiling(rows: number, cols: number): GemmTiling {
  return { rowBlocks: rows > BLOCK ? 2 : 1, colBlocks: cols > BLOCK ? 2 : 1 };
}

/**
 * dW [kh * kw * in, out] of an NHWC conv2d as an implicit GEMM: dW = im2col(x)^T dy, summed over
 * the output pixels, where the im2col matrix is never formed. Each step a workgroup loads
 * TILE_PIXELS pixels of its rows of im2col(x), straight from x (zero outside the input), and of
 * its columns of dy into shared memory, four consecutive rows or columns per load (input or output
 * channels, contiguous in memory: one vec4 read when the channels are a multiple of 4), then every
 * thread accumulates its entries of the tile (see `splitGemmMain`). The sum over pixels is
 * split `splits` ways (the third dispatch dimension) so that small filters still fill the GPU; the
 * output [splits, rows, cols] holds the partial sums.
 */
export function filterGradProgram(sizes: FilterGradSizes, inChannels: number): WebGpuProgram {
  const tiling = filterGradTiling(sizes.rows, sizes.cols);
  const { rowBlocks, colBlocks } = tiling;
  const vec4X = inChannels % 4 === 0;
  const vec4Dy = sizes.cols % 4 === 0;
  const [rowVec4s, colVec4s] = [rowBlocks * (BLOCK / 4), colBlocks * (BLOCK / 4)];
  return {
    variableNames: ['x', 'dy'],
    outputShape: [sizes.splits, sizes.rows, sizes.cols],
    shaderKey: `dalle2js_conv2d_filter_grad_${rowBlocks}x${colBlocks}_${vec4X}_${vec4Dy}`,
    dispatchLayout: { x: [0, 1, 2] },
    dispatch: [...tileCounts(sizes.rows, sizes.cols, tiling), sizes.splits],
    workgroupSize: [THREADS_PER_SIDE, THREADS_PER_SIDE, 1],
    variableComponents: [vec4X ? 4 : 1, vec4Dy ? 4 : 1],
    uniforms: FILTER_GRAD_UNIFORMS,
    getUserCode: () => `
      var<workgroup> tileA : array<array<vec4<f32>, ${rowVec4s}>, ${TILE_PIXELS}>;
      var<workgroup> tileB : array<array<vec4<f32>, ${colVec4s}>, ${TILE_PIXELS}>;

      // x's float index of entry (p, m) of im2col(x): output pixel p seen through filter entry
      // m = (ki, kj, c), or -1 where the tap falls in the padding or past the ends.
      fn xIndex(p : i32, m : i32, end : i32) -> i32 {
        if (p >= end || m >= uniforms.rows) {
          return -1;
        }
        let c = m % uniforms.inChannels;
        let tap = m / uniforms.inChannels;
        let ow = p % uniforms.outWidth;
        let rest = p / uniforms.outWidth;
        let ih = (rest % uniforms.outHeight) * uniforms.strideHeight + tap / uniforms.filterWidth -
          uniforms.padTop;
        let iw = ow * uniforms.strideWidth + tap % uniforms.filterWidth - uniforms.padLeft;
        if (ih < 0 || ih >= uniforms.inHeight || iw < 0 || iw >= uniforms.inWidth) {
          return -1;
        }
        let n = rest / uniforms.outHeight;
        return ((n * uniforms.inHeight + ih) * uniforms.inWidth + iw) * uniforms.inChannels + c;
      }

      // Four consecutive rows m .. m + 3 of im2col(x) at pixel p.
      fn loadX(p : i32, m : i32, end : i32) -> vec4<f32> {
        ${
          vec4X
            ? `let i = xIndex(p, m, end);
        return select(vec4<f32>(0.0), x[max(i, 0) / 4], i >= 0);`
            : `var values = vec4<f32>(0.0);
        for (var e = 0; e < 4; e = e + 1) {
          let i = xIndex(p, m + e, end);
          if (i >= 0) {
            values[e] = x[i];
          }
        }
        return values;`
        }
      }

      // Four consecutive columns col .. col + 3 of dy at pixel p.
      fn loadDy(p : i32, col : i32, end : i32) -> vec4<f32> {
        ${
          vec4Dy
            ? `if (p >= end || col >= uniforms.cols) {
          return vec4<f32>(0.0);
        }
        return dy[(p * uniforms.cols + col) / 4];`
            : `var values = vec4<f32>(0.0);
        for (var e = 0; e < 4; e = e + 1) {
          if (p < end && col + e < uniforms.cols) {
            values[e] = dy[p * uniforms.cols + col + e];
          }
        }
        return values;`
        }
      }

${splitGemmMain({
  tiling,
  setup: `
        let end = min((split + 1) * uniforms.stepsPerSplit * ${TILE_PIXELS}, uniforms.pixels);`,
  load: `
          let p0 = step * ${TILE_PIXELS};
${fillTile('tileA', TILE_PIXELS, rowVec4s, (k, v) => `loadX(p0 + ${k}, row0 + 4 * ${v}, end)`)}
${fillTile('tileB', TILE_PIXELS, colVec4s, (k, v) => `loadDy(p0 + ${k}, col0 + 4 * ${v}, end)`)}`,
  inner: TILE_PIXELS,
  aStride: BLOCK / 4,
  bStride: BLOCK / 4,
})}
    `,
  };
}
