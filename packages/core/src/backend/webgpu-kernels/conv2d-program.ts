import { convGemmUniforms, TILE_INNER } from './conv-gemm.js';
import {
  BLOCK,
  fillTile,
  type GemmTiling,
  quadRowPixels,
  splitGemmMain,
  storeQuads,
  THREADS_PER_SIDE,
  tileCounts,
  widestTiling,
} from './tiled-gemm.js';
import type { WebGpuProgram } from './webgpu-program.js';

/**
 * A shared block row of A holds 64 entries as 16 vec4s, plus one: the padding spreads the stores of
 * neighbouring threads, which write four rows apart, over distinct memory banks.
 */
const A_BLOCK_VEC4S = BLOCK / 4 + 1;
const B_BLOCK_VEC4S = BLOCK / 4;

/** The tiling of y (output pixels x output channels): see `widestTiling`; 17 KB for 2 x 2 blocks. */
export function conv2dTiling(rows: number, cols: number, workgroupStorageBytes: number): GemmTiling {
  return widestTiling(rows, cols, workgroupStorageBytes, conv2dSharedBytes);
}

/** The workgroup memory of the two shared tiles. */
export function conv2dSharedBytes({ rowBlocks, colBlocks }: GemmTiling): number {
  return TILE_INNER * (rowBlocks * A_BLOCK_VEC4S + colBlocks * B_BLOCK_VEC4S) * 16;
}

/**
 * y [N * Ho * Wo, out] of an NHWC conv2d (dilation 1) as an implicit GEMM: y = im2col(x) W, where
 * row p of im2col(x) holds the input that output pixel p sees through each filter entry (ki, kj,
 * c), zero in the padding, and W is the filter as [kh * kw * in, out]. im2col(x) is never formed:
 * each step, every thread loads four consecutive inner entries (input channels, contiguous in x:
 * one vec4 read when `in` is a multiple of 4) of one row of it, and vec4s of W's rows, into shared
 * memory; then every thread accumulates its entries of the tile (see `splitGemmMain`).
 */
export function conv2dProgram(
  rows: number,
  cols: number,
  inChannels: number,
  tiling: GemmTiling,
  splits: number,
): WebGpuProgram {
  const { rowBlocks, colBlocks } = tiling;
  const vec4X = inChannels % 4 === 0;
  const vec4W = cols % 4 === 0;
  const colVec4s = colBlocks * B_BLOCK_VEC4S;
  return {
    variableNames: ['x', 'W'],
    outputShape: [splits, rows, cols],
    shaderKey: `dalle2js_conv2d_${rowBlocks}x${colBlocks}_${vec4X}_${vec4W}`,
    dispatchLayout: { x: [0, 1, 2] },
    dispatch: [...tileCounts(rows, cols, tiling), splits],
    workgroupSize: [THREADS_PER_SIDE, THREADS_PER_SIDE, 1],
    variableComponents: [vec4X ? 4 : 1, vec4W ? 4 : 1],
    uniforms: convGemmUniforms('inChannels'),
    getUserCode: () => `
      var<workgroup> tileA : array<array<vec4<f32>, ${rowBlocks * A_BLOCK_VEC4S}>, ${TILE_INNER}>;
      var<workgroup> tileB : array<array<vec4<f32>, ${colVec4s}>, ${TILE_INNER}>;

      // x's float index for batch n, the input pixel seen through tap (ki, kj) from the output
      // pixel whose window's corner is (top, left) (negative in the padding), and channel c; -1
      // in the padding.
      fn xIndex(n : i32, top : i32, left : i32, ki : i32, kj : i32, c : i32) -> i32 {
        let ih = top + ki;
        let iw = left + kj;
        if (n < 0 || ih < 0 || ih >= uniforms.inHeight || iw < 0 || iw >= uniforms.inWidth) {
          return -1;
        }
        return ((n * uniforms.inHeight + ih) * uniforms.inWidth + iw) * uniforms.inChannels + c;
      }

      // Four consecutive columns col .. col + 3 of W's row m.
      fn loadW(m : i32, col : i32) -> vec4<f32> {
        ${
          vec4W
            ? `if (m >= uniforms.inner || col >= uniforms.cols) {
          return vec4<f32>(0.0);
        }
        return W[(m * uniforms.cols + col) / 4];`
            : `var values = vec4<f32>(0.0);
        for (var e = 0; e < 4; e = e + 1) {
          if (m < uniforms.inner && col + e < uniforms.cols) {
            values[e] = W[m * uniforms.cols + col + e];
          }
        }
        return values;`
        }
      }

${splitGemmMain({
  tiling,
  // This thread loads inner entries 4 * quad .. 4 * quad + 3 of row (output pixel) j of each
  // block of im2col(x): the corner of the window that pixel sees, less the padding.
  setup: `${quadRowPixels(
    rowBlocks,
    'uniforms.outHeight',
    'uniforms.outWidth',
    'py * uniforms.strideHeight - uniforms.padTop',
    'px * uniforms.strideWidth - uniforms.padLeft',
  )}
        ${vec4X ? VEC4_X_STATE : ''}`,
  load: `
          let m = step * ${TILE_INNER} + 4 * quad;
          // Initialised explicitly: Dawn on lavapipe kept values from the previous iteration.
          var a = array<vec4<f32>, ${rowBlocks}>();
          ${vec4X ? VEC4_X_LOAD(rowBlocks) : SCALAR_X_LOAD(rowBlocks)}
${storeQuads('tileA', 'quad', rowBlocks, A_BLOCK_VEC4S, 'a')}
${fillTile('tileB', TILE_INNER, colVec4s, (k, v) => `loadW(step * ${TILE_INNER} + ${k}, col0 + 4 * ${v})`)}`,
  inner: TILE_INNER,
  aStride: A_BLOCK_VEC4S,
  bStride: B_BLOCK_VEC4S,
})}
    `,
  };
}

/** (ki, kj, c) of the thread's inner entries, divided out once and then stepped along. */
const VEC4_X_STATE = `
        let first = firstStep * ${TILE_INNER} + 4 * quad;
        var c = first % uniforms.inChannels;
        var ki = (first / uniforms.inChannels) / uniforms.filterWidth;
        var kj = (first / uniforms.inChannels) % uniforms.filterWidth;
`;

/** Entries m .. m + 3 share a tap (in is a multiple of 4, and so is m): one vec4 read each. */
const VEC4_X_LOAD = (rowBlocks: number) => `
          if (m < uniforms.inner) {
            for (var h = 0; h < ${rowBlocks}; h = h + 1) {
              let i = xIndex(ns[h], ys[h], xs[h], ki, kj, c);
              if (i >= 0) {
                a[h] = x[i / 4];
              }
            }
          }
          c = c + ${TILE_INNER};
          while (c >= uniforms.inChannels) {
            c = c - uniforms.inChannels;
            kj = kj + 1;
            if (kj == uniforms.filterWidth) {
              kj = 0;
              ki = ki + 1;
            }
          }
`;

const SCALAR_X_LOAD = (rowBlocks: number) => `
          for (var e = 0; e < 4; e = e + 1) {
            if (m + e < uniforms.inner) {
              let tap = (m + e) / uniforms.inChannels;
              for (var h = 0; h < ${rowBlocks}; h = h + 1) {
                let i = xIndex(ns[h], ys[h], xs[h], tap / uniforms.filterWidth, tap % uniforms.filterWidth,
                  (m + e) % uniforms.inChannels);
                if (i >= 0) {
                  a[h][e] = x[i];
                }
              }
            }
          }
`;
