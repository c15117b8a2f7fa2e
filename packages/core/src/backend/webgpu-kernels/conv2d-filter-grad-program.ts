import type { WebGpuProgram } from './webgpu-program.js';

/** Rows (filter entries) and columns (output channels) of dW that one workgroup computes. */
export const TILE = 64;
/** Output pixels that a workgroup takes into shared memory per step. */
export const TILE_PIXELS = 16;
/** Each thread computes a 4 x 4 block of the tile: 16 x 16 threads. */
const THREADS_PER_SIDE = TILE / 4;

/** The sizes of a conv2d filter gradient, passed to the program as uniforms. */
export interface FilterGradSizes {
  /** Filter entries kh * kw * in: the rows of dW. */
  rows: number;
  /** Output channels: the columns of dW. */
  cols: number;
  /** Output pixels N * Ho * Wo summed over. */
  pixels: number;
  /** Pixels per split of the sum, a multiple of TILE_PIXELS. */
  pixelsPerSplit: number;
  splits: number;
}

export const FILTER_GRAD_UNIFORMS = [
  'rows : i32, cols : i32, pixels : i32, pixelsPerSplit : i32,',
  'inHeight : i32, inWidth : i32, inChannels : i32, outHeight : i32, outWidth : i32,',
  'filterWidth : i32, strideHeight : i32, strideWidth : i32, padTop : i32, padLeft : i32,',
].join(' ');

/**
 * dW [kh * kw * in, out] of an NHWC conv2d as an implicit GEMM: dW = im2col(x)^T dy, summed over
 * the output pixels, where the im2col matrix is never formed: each workgroup loads a TILE_PIXELS x
 * TILE block of it straight from x (zero outside the input) and the matching block of dy into
 * shared memory, then every thread accumulates a 4 x 4 block of a TILE x TILE tile of dW. The sum
 * over pixels is split `splits` ways (the third dispatch dimension) so that small filters still
 * fill the GPU; the output [splits, rows, cols] holds the partial sums.
 */
export function filterGradProgram(sizes: FilterGradSizes): WebGpuProgram {
  return {
    variableNames: ['x', 'dy'],
    outputShape: [sizes.splits, sizes.rows, sizes.cols],
    shaderKey: 'dalle2js_conv2d_filter_grad',
    dispatchLayout: { x: [0, 1, 2] },
    dispatch: [Math.ceil(sizes.cols / TILE), Math.ceil(sizes.rows / TILE), sizes.splits],
    workgroupSize: [THREADS_PER_SIDE, THREADS_PER_SIDE, 1],
    uniforms: `${FILTER_GRAD_UNIFORMS} steps : i32,`,
    getUserCode: () => `
      var<workgroup> tileX : array<array<f32, ${TILE}>, ${TILE_PIXELS}>;
      var<workgroup> tileDy : array<array<f32, ${TILE}>, ${TILE_PIXELS}>;

      // Entry (p, m) of im2col(x): output pixel p = (n, oh, ow) seen through filter entry
      // m = (ki, kj, c), or zero where the tap falls in the padding.
      fn im2col(p : i32, m : i32, end : i32) -> f32 {
        if (p >= end || m >= uniforms.rows) {
          return 0.0;
        }
        let c = m % uniforms.inChannels;
        let tap = m / uniforms.inChannels;
        let kj = tap % uniforms.filterWidth;
        let ki = tap / uniforms.filterWidth;
        let ow = p % uniforms.outWidth;
        let rest = p / uniforms.outWidth;
        let oh = rest % uniforms.outHeight;
        let n = rest / uniforms.outHeight;
        let ih = oh * uniforms.strideHeight + ki - uniforms.padTop;
        let iw = ow * uniforms.strideWidth + kj - uniforms.padLeft;
        if (ih < 0 || ih >= uniforms.inHeight || iw < 0 || iw >= uniforms.inWidth) {
          return 0.0;
        }
        return x[((n * uniforms.inHeight + ih) * uniforms.inWidth + iw) * uniforms.inChannels + c];
      }

      fn gradient(p : i32, col : i32, end : i32) -> f32 {
        if (p >= end || col >= uniforms.cols) {
          return 0.0;
        }
        return dy[p * uniforms.cols + col];
      }

      fn main(index : i32) {
        let tx = i32(localId.x);
        let ty = i32(localId.y);
        let thread = ty * ${THREADS_PER_SIDE} + tx;
        let col0 = i32(workgroupId.x) * ${TILE};
        let row0 = i32(workgroupId.y) * ${TILE};
        let split = i32(workgroupId.z);
        let begin = split * uniforms.pixelsPerSplit;
        let end = min(begin + uniforms.pixelsPerSplit, uniforms.pixels);
        var sums : array<array<f32, 4>, 4>;
        // The trip count comes from uniforms alone: barriers need uniform control flow.
        for (var step = 0; step < uniforms.steps; step = step + 1) {
          let p0 = begin + step * ${TILE_PIXELS};
          for (var i = 0; i < ${(TILE * TILE_PIXELS) / (THREADS_PER_SIDE * THREADS_PER_SIDE)}; i = i + 1) {
            let e = thread + i * ${THREADS_PER_SIDE * THREADS_PER_SIDE};
            let k = e / ${TILE};
            let j = e % ${TILE};
            tileX[k][j] = im2col(p0 + k, row0 + j, end);
            tileDy[k][j] = gradient(p0 + k, col0 + j, end);
          }
          workgroupBarrier();
          for (var k = 0; k < ${TILE_PIXELS}; k = k + 1) {
            let a = vec4<f32>(tileX[k][ty * 4], tileX[k][ty * 4 + 1], tileX[k][ty * 4 + 2], tileX[k][ty * 4 + 3]);
            let b = vec4<f32>(tileDy[k][tx * 4], tileDy[k][tx * 4 + 1], tileDy[k][tx * 4 + 2], tileDy[k][tx * 4 + 3]);
            for (var r = 0; r < 4; r = r + 1) {
              sums[r][0] = sums[r][0] + a[r] * b[0];
              sums[r][1] = sums[r][1] + a[r] * b[1];
              sums[r][2] = sums[r][2] + a[r] * b[2];
              sums[r][3] = sums[r][3] + a[r] * b[3];
            }
          }
          workgroupBarrier();
        }
        for (var r = 0; r < 4; r = r + 1) {
          let row = row0 + ty * 4 + r;
          for (var c = 0; c < 4; c = c + 1) {
            let col = col0 + tx * 4 + c;
            if (row < uniforms.rows && col < uniforms.cols) {
              setOutputAtIndex((split * uniforms.rows + row) * uniforms.cols + col, sums[r][c]);
            }
          }
        }
      }
    `,
  };
}

/** Used by the program's `steps` uniform: the tiles of pixels in one split. */
export function stepsPerSplit(sizes: FilterGradSizes): number {
  return sizes.pixelsPerSplit / TILE_PIXELS;
}
