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
  type GemmTiling,
  splitGemmMain,
  THREADS_PER_SIDE,
  tileCounts,
  widestTiling,
} from './tiled-gemm.js';
import type { WebGpuProgram } from './webgpu-program.js';

/**
 * A shared row holds a tile's rows (or columns) as vec4s, plus one: the padding spreads the stores
 * of the four threads that load one pixel's (or input channel's) block, which write four rows
 * apart, over distinct memory banks.
 */
const rowVec4s = (blocks: number) => blocks * (BLOCK / 4) + 1;

/** The tiling of dx (pixels x input channels): see `widestTiling`. */
export function inputGradTiling(rows: number, cols: number, workgroupStorageBytes: number): GemmTiling {
  return widestTiling(rows, cols, workgroupStorageBytes, inputGradSharedBytes);
}

/** The workgroup memory of the two shared tiles. */
export function inputGradSharedBytes({ rowBlocks, colBlocks }: GemmTiling): number {
  return TILE_INNER * (rowVec4s(rowBlocks) + rowVec4s(colBlocks)) * 16;
}

/**
 * dx [N * H * W, in] of an NHWC conv2d as an implicit GEMM: dx = A B, where A [pixels, kh * kw *
 * out] holds, for input pixel (n, ih, iw) and inner entry (ki, kj, o), dy at the output pixel that
 * sees the input through tap (ki, kj) (zero where there is none: padding, or a stride skipping
 * the pixel), and B [kh * kw * out, in] is the filter with its channel axes swapped. Neither is
 * formed: each step, threads load 4 x 4 blocks of A and of B (four rows or columns by four output
 * channels, contiguous in dy and in the filter: one vec4 read each when `out` is a multiple of 4)
 * into shared memory, then every thread accumulates its entries of the tile of dx (see
 * `splitGemmMain`), the inner sum split `splits` ways.
 */
export function inputGradProgram(
  rows: number,
  cols: number,
  outChannels: number,
  tiling: GemmTiling,
  splits: number,
): WebGpuProgram {
  const vec4 = outChannels % 4 === 0;
  const { rowBlocks, colBlocks } = tiling;
  return {
    variableNames: ['dy', 'W'],
    outputShape: [splits, rows, cols],
    shaderKey: `dalle2js_conv2d_input_grad_${vec4 ? 'vec4' : 'scalar'}_${rowBlocks}x${colBlocks}`,
    dispatchLayout: { x: [0, 1, 2] },
    dispatch: [...tileCounts(rows, cols, tiling), splits],
    workgroupSize: [THREADS_PER_SIDE, THREADS_PER_SIDE, 1],
    ...(vec4 ? { variableComponents: [4, 4] } : {}),
    uniforms: convGemmUniforms('outChannels'),
    getUserCode: () => `
      var<workgroup> tileA : array<array<vec4<f32>, ${rowVec4s(rowBlocks)}>, ${TILE_INNER}>;
      var<workgroup> tileB : array<array<vec4<f32>, ${rowVec4s(colBlocks)}>, ${TILE_INNER}>;

      // The output row (or column) that sees input row v (shifted by the padding, less the tap)
      // at this stride, or -1 where none does.
      fn seenBy(v : i32, stride : i32, size : i32) -> i32 {
        if (v < 0) {
          return -1;
        }
        var out = v;
        if (stride != 1) {
          out = v / stride;
          if (out * stride != v) {
            return -1;
          }
        }
        return select(-1, out, out < size);
      }

      // dy's float index for batch n, input pixel (y, x) + padding and inner entry (ki, kj, o),
      // or -1 where it reads zero.
      fn dyIndex(n : i32, y : i32, x : i32, ki : i32, kj : i32, o : i32) -> i32 {
        let oy = seenBy(y - ki, uniforms.strideHeight, uniforms.outHeight);
        let ox = seenBy(x - kj, uniforms.strideWidth, uniforms.outWidth);
        if (n < 0 || oy < 0 || ox < 0) {
          return -1;
        }
        return ((n * uniforms.outHeight + oy) * uniforms.outWidth + ox) * uniforms.outChannels + o;
      }

      // The filter's float index of tap (ki, kj), input channel c, output channel o, or -1 outside.
      fn wIndex(ki : i32, kj : i32, c : i32, o : i32) -> i32 {
        if (c >= uniforms.cols) {
          return -1;
        }
        return ((ki * uniforms.filterWidth + kj) * uniforms.cols + c) * uniforms.outChannels + o;
      }

${splitGemmMain({
  tiling,
  // Threads load 4 x 4 blocks: of A, four pixels (at their position plus the padding) by four
  // output channels; of B, four input channels by four output channels.
  setup: `${blockRoles(blocksOf(rowBlocks), blocksOf(colBlocks))}
${blockPixels('uniforms.inHeight', 'uniforms.inWidth', 'py + uniforms.padTop', 'px + uniforms.padLeft')}
${vec4 ? innerEntryState('uniforms.outChannels') : ''}`,
  load: `
          let m = step * ${TILE_INNER} + 4 * kq;
          // Initialised explicitly: Dawn on lavapipe kept values from the previous iteration.
          var v = array<vec4<f32>, 4>();
          if (isA) {
${loadBlock('dy', vec4, 'uniforms.outChannels', (r, ki, kj, ch) => `dyIndex(ns[${r}], ys[${r}], xs[${r}], ${ki}, ${kj}, ${ch})`)}
${storeBlock('tileA')}
          } else if (loads) {
${loadBlock('W', vec4, 'uniforms.outChannels', (r, ki, kj, ch) => `wIndex(${ki}, ${kj}, col0 + 4 * rq + ${r}, ${ch})`)}
${storeBlock('tileB')}
          }
${vec4 ? advanceInner('uniforms.outChannels') : ''}`,
  inner: TILE_INNER,
  aStride: BLOCK / 4,
  bStride: BLOCK / 4,
})}
    `,
  };
}
