import { convGemmUniforms, TILE_INNER } from './conv-gemm.js';
import {
  BLOCK,
  type GemmTiling,
  quadRowPixels,
  splitGemmMain,
  storeQuads,
  THREADS_PER_SIDE,
  tileCounts,
  widestTiling,
} from './tiled-gemm.js';
import type { WebGpuProgram } from './webgpu-program.js';

/** Groups of four inner entries of one row (or column) that each thread loads per block and step. */
const QUADS_PER_THREAD = (BLOCK * TILE_INNER) / 4 / THREADS_PER_SIDE ** 2;
/**
 * A shared block row holds 64 entries as 16 vec4s, plus one: the padding spreads the stores of
 * neighbouring threads, which write four rows apart, over distinct memory banks.
 */
const BLOCK_VEC4S = BLOCK / 4 + 1;

/** The tiling of dx (pixels x input channels): see `widestTiling`; 17 KB for 2 x 2 blocks. */
export function inputGradTiling(rows: number, cols: number, workgroupStorageBytes: number): GemmTiling {
  return widestTiling(rows, cols, workgroupStorageBytes, inputGradSharedBytes);
}

/** The workgroup memory of the two shared tiles. */
export function inputGradSharedBytes({ rowBlocks, colBlocks }: GemmTiling): number {
  return TILE_INNER * (rowBlocks + colBlocks) * BLOCK_VEC4S * 16;
}

/**
 * dx [N * H * W, in] of an NHWC conv2d as an implicit GEMM: dx = A B, where A [pixels, kh * kw *
 * out] holds, for input pixel (n, ih, iw) and inner entry (ki, kj, o), dy at the output pixel that
 * sees the input through tap (ki, kj) (zero where there is none: padding, or a stride skipping
 * the pixel), and B [kh * kw * out, in] is the filter with its channel axes swapped. Neither is
 * formed: each step, every thread loads groups of four consecutive inner entries (output channels,
 * contiguous in dy and in the filter) of rows of A and columns of B into shared memory, then
 * accumulates its entries of the tile of dx from vec4 reads of both.
 *
 * When `out` is a multiple of 4, a group is one vec4 read of each, and each thread steps its
 * groups' (ki, kj, o) along without dividing; otherwise four scalar reads, each index divided out.
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
      var<workgroup> tileA : array<array<vec4<f32>, ${rowBlocks * BLOCK_VEC4S}>, ${TILE_INNER}>;
      var<workgroup> tileB : array<array<vec4<f32>, ${colBlocks * BLOCK_VEC4S}>, ${TILE_INNER}>;

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
  // This thread loads groups quad, quad + 4, ... of four inner entries of row (pixel) j of each
  // block of A, at its position plus the padding, and of column (channel) j of each block of B.
  setup: `${quadRowPixels(rowBlocks, 'uniforms.inHeight', 'uniforms.inWidth', 'py + uniforms.padTop', 'px + uniforms.padLeft')}
        ${vec4 ? VEC4_LOAD_STATE : ''}`,
  load: `
          for (var s = 0; s < ${QUADS_PER_THREAD}; s = s + 1) {
            let q = quad + 4 * s;
            let m = step * ${TILE_INNER} + 4 * q;
            // Initialised explicitly: Dawn on lavapipe kept values from the previous iteration.
            var a = array<vec4<f32>, ${rowBlocks}>();
            var b = array<vec4<f32>, ${colBlocks}>();
            ${vec4 ? VEC4_LOAD(rowBlocks, colBlocks) : SCALAR_LOAD(rowBlocks, colBlocks)}
${storeQuads('tileA', 'q', rowBlocks, BLOCK_VEC4S, 'a')}
${storeQuads('tileB', 'q', colBlocks, BLOCK_VEC4S, 'b')}
          }`,
  inner: TILE_INNER,
  aStride: BLOCK_VEC4S,
  bStride: BLOCK_VEC4S,
})}
    `,
  };
}

/** (ki, kj, o) of each of the thread's groups, divided out once and then stepped along. */
const VEC4_LOAD_STATE = `
        var kis : array<i32, ${QUADS_PER_THREAD}>;
        var kjs : array<i32, ${QUADS_PER_THREAD}>;
        var os : array<i32, ${QUADS_PER_THREAD}>;
        for (var s = 0; s < ${QUADS_PER_THREAD}; s = s + 1) {
          let m = firstStep * ${TILE_INNER} + 4 * (quad + 4 * s);
          let tap = m / uniforms.outChannels;
          kis[s] = tap / uniforms.filterWidth;
          kjs[s] = tap % uniforms.filterWidth;
          os[s] = m % uniforms.outChannels;
        }
`;

/** Entries m .. m + 3 share a tap (out is a multiple of 4, and so is m): one vec4 read each. */
const VEC4_LOAD = (rowBlocks: number, colBlocks: number) => `
            if (m < uniforms.inner) {
              for (var h = 0; h < ${rowBlocks}; h = h + 1) {
                let i = dyIndex(ns[h], ys[h], xs[h], kis[s], kjs[s], os[s]);
                if (i >= 0) {
                  a[h] = dy[i / 4];
                }
              }
              for (var h = 0; h < ${colBlocks}; h = h + 1) {
                let w = wIndex(kis[s], kjs[s], col0 + j + ${BLOCK} * h, os[s]);
                if (w >= 0) {
                  b[h] = W[w / 4];
                }
              }
            }
            os[s] = os[s] + ${TILE_INNER};
            while (os[s] >= uniforms.outChannels) {
              os[s] = os[s] - uniforms.outChannels;
              kjs[s] = kjs[s] + 1;
              if (kjs[s] == uniforms.filterWidth) {
                kjs[s] = 0;
                kis[s] = kis[s] + 1;
              }
            }
`;

const SCALAR_LOAD = (rowBlocks: number, colBlocks: number) => `
            for (var e = 0; e < 4; e = e + 1) {
              if (m + e < uniforms.inner) {
                let o = (m + e) % uniforms.outChannels;
                let tap = (m + e) / uniforms.outChannels;
                let ki = tap / uniforms.filterWidth;
                let kj = tap % uniforms.filterWidth;
                for (var h = 0; h < ${rowBlocks}; h = h + 1) {
                  let i = dyIndex(ns[h], ys[h], xs[h], ki, kj, o);
                  if (i >= 0) {
                    a[h][e] = dy[i];
                  }
                }
                for (var h = 0; h < ${colBlocks}; h = h + 1) {
                  let w = wIndex(ki, kj, col0 + j + ${BLOCK} * h, o);
                  if (w >= 0) {
                    b[h][e] = W[w];
                  }
                }
              }
            }
`;
