import {
  advanceInner,
  blockPixels,
  blockRoles,
  blocksOf,
  convGemmUniforms,
  innerEntryState,
  loadBlock,
  storeBlock,
  TILE_INNER,
} from './conv-gemm.js';
import {
  BLOCK,
  fillTile,
  type GemmTiling,
  splitGemmMain,
  THREADS_PER_SIDE,
  tileCounts,
  widestTiling,
} from './tiled-gemm.js';
import type { WebGpuProgram } from './webgpu-program.js';

/**
 * A shared row of A holds the tile's rows as vec4s, plus one: the padding spreads the stores of the
 * four threads that load one pixel's channels, which write four rows apart, over distinct banks.
 */
const aRowVec4s = (rowBlocks: number) => rowBlocks * (BLOCK / 4) + 1;
const B_BLOCK_VEC4S = BLOCK / 4;

/** The tiling of y (output pixels x output channels): see `widestTiling`. */
export function conv2dTiling(rows: number, cols: number, workgroupStorageBytes: number): GemmTiling {
  return widestTiling(rows, cols, workgroupStorageBytes, conv2dSharedBytes);
}

/** The workgroup memory of the two shared tiles. */
export function conv2dSharedBytes({ rowBlocks, colBlocks }: GemmTiling): number {
  return TILE_INNER * (aRowVec4s(rowBlocks) + colBlocks * B_BLOCK_VEC4S) * 16;
}

/**
 * y [N * Ho * Wo, out] of an NHWC conv2d (dilation 1) as an implicit GEMM: y = im2col(x) W, where
 * row p of im2col(x) holds the input that output pixel p sees through each filter entry (ki, kj,
 * c), zero in the padding, and W is the filter as [kh * kw * in, out]. im2col(x) is never formed:
 * each step, threads load 4 x 4 blocks of it (four output pixels by four input channels,
 * contiguous in x: one vec4 read each when `in` is a multiple of 4) and all threads load vec4s of
 * W's rows into shared memory; then every thread accumulates its entries of the tile (see
 * `splitGemmMain`), the inner sum split `splits` ways. With `bias`, an input [out] is added to
 * each output channel; with `residual`, an input of y's shape to y.
 */
export function conv2dProgram(
  rows: number,
  cols: number,
  inChannels: number,
  tiling: GemmTiling,
  splits: number,
  bias = false,
  residual = false,
): WebGpuProgram {
  const { rowBlocks, colBlocks } = tiling;
  const vec4X = inChannels % 4 === 0;
  const vec4W = cols % 4 === 0;
  const colVec4s = colBlocks * B_BLOCK_VEC4S;
  return {
    variableNames: ['x', 'W', ...(bias ? ['bias'] : []), ...(residual ? ['residual'] : [])],
    outputShape: [splits, rows, cols],
    shaderKey: `dalle2js_conv2d_${rowBlocks}x${colBlocks}_${vec4X}_${vec4W}_${bias}_${residual}`,
    dispatchLayout: { x: [0, 1, 2] },
    dispatch: [...tileCounts(rows, cols, tiling), splits],
    workgroupSize: [THREADS_PER_SIDE, THREADS_PER_SIDE, 1],
    variableComponents: [vec4X ? 4 : 1, vec4W ? 4 : 1, ...(bias ? [1] : []), ...(residual ? [1] : [])],
    uniforms: convGemmUniforms('inChannels'),
    getUserCode: () => `
      var<workgroup> tileA : array<array<vec4<f32>, ${aRowVec4s(rowBlocks)}>, ${TILE_INNER}>;
      var<workgroup> tileB : array<array<vec4<f32>, ${colVec4s}>, ${TILE_INNER}>;

      // x's float index for row r of this thread's block: its output pixel's window, whose corner
      // is (ys[r], xs[r]) (negative in the padding), seen through tap (ki, kj), channel c; -1 in
      // the padding.
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
  setup: `${blockRoles(blocksOf(rowBlocks), 0)}
${blockPixels(
  'uniforms.outHeight',
  'uniforms.outWidth',
  'py * uniforms.strideHeight - uniforms.padTop',
  'px * uniforms.strideWidth - uniforms.padLeft',
)}
${vec4X ? innerEntryState('uniforms.inChannels') : ''}`,
  load: `
          let m = step * ${TILE_INNER} + 4 * kq;
          if (isA) {
            // Initialised explicitly: Dawn on lavapipe kept values from the previous iteration.
            var v = array<vec4<f32>, 4>();
${loadBlock('x', vec4X, 'uniforms.inChannels', (r, ki, kj, ch) => `xIndex(ns[${r}], ys[${r}], xs[${r}], ${ki}, ${kj}, ${ch})`)}
${storeBlock('tileA')}
          }
${vec4X ? advanceInner('uniforms.inChannels') : ''}
${fillTile('tileB', TILE_INNER, colVec4s, (k, v) => `loadW(step * ${TILE_INNER} + ${k}, col0 + 4 * ${v})`)}`,
  inner: TILE_INNER,
  aStride: BLOCK / 4,
  bStride: B_BLOCK_VEC4S,
  bias,
  residual,
})}
    `,
  };
}
