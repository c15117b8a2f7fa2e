import type * as tf from '@tensorflow/tfjs-core';
import { CONV_GEOMETRY_UNIFORMS, convGeometry } from './conv-kernel.js';
import { sumSplits } from './split-sum.js';
import { BLOCK, type GemmTiling, splitInner, tileCounts } from './tiled-gemm.js';
import { intUniforms, type WebGpuBackend, type WebGpuProgram } from './webgpu-program.js';

/**
 * Entries of the inner sum (filter tap, channel) that the conv2d forward and input-gradient
 * programs take into shared memory per step.
 */
export const TILE_INNER = 16;

/**
 * The uniforms of the conv2d forward and input-gradient programs, in the order `runConvGemm`
 * passes them; `channels` names the channels the inner sum runs over.
 */
export function convGemmUniforms(channels: 'inChannels' | 'outChannels'): string {
  return `rows : i32, cols : i32, inner : i32, ${channels} : i32, stepsPerSplit : i32, ${CONV_GEOMETRY_UNIFORMS}`;
}

/** A conv2d forward or input gradient as a GEMM of rows x cols over taps x `channels`. */
export interface ConvGemm {
  rows: number;
  cols: number;
  channels: number;
  tiling: GemmTiling;
  program: (splits: number) => WebGpuProgram;
  inputs: tf.TensorInfo[];
  /** The result's shape (rows x cols entries). */
  shape: number[];
}

/** Runs `gemm`'s program, its inner sum split where there are few tiles, and adds the splits. */
export function runConvGemm(
  gpu: WebGpuBackend,
  info: tf.backend_util.Conv2DInfo,
  { rows, cols, channels, tiling, program, inputs, shape }: ConvGemm,
): tf.TensorInfo {
  const inner = info.filterHeight * info.filterWidth * channels;
  const [colTiles, rowTiles] = tileCounts(rows, cols, tiling);
  const { splits, stepsPerSplit } = splitInner(colTiles * rowTiles, Math.ceil(inner / TILE_INNER));
  const uniforms = intUniforms(rows, cols, inner, channels, stepsPerSplit, ...convGeometry(info));
  const partial = gpu.runWebGPUProgram(program(splits), inputs, 'float32', uniforms);
  return sumSplits(gpu, partial, splits, shape);
}

/**
 * WGSL for the programs whose threads each load one 4 x 4 block of a shared tile: four rows (or
 * columns) of the product, 4 * rq .. 4 * rq + 3, by four inner entries, 4 * kq .. 4 * kq + 3
 * (consecutive channels, contiguous in memory). The first `aBlocks` threads load blocks of A,
 * the next `bBlocks` blocks of B (`isA`, `loads`); each then stores its block transposed, as
 * four whole vec4s down the tile (see `storeBlock`).
 */
export function blockRoles(aBlocks: number, bBlocks: number): string {
  return `
        let isA = thread < ${aBlocks};
        let loads = thread < ${aBlocks + bBlocks};
        let blk = select(thread - ${aBlocks}, thread, isA);
        let kq = blk % 4;
        let rq = blk / 4;`;
}

/** Blocks of four rows (or columns) by four inner entries in a tile of `blocks` 64-blocks. */
export function blocksOf(blocks: number): number {
  return (BLOCK / 4) * (TILE_INNER / 4) * blocks;
}

/**
 * WGSL: for the four rows 4 * rq + r of the tile, the batch `ns[r]` (-1 past `uniforms.rows`) and
 * position (`ys[r]`, `xs[r]`) of the pixel that row is, given as expressions of its row `py` and
 * column `px` in a `height` x `width` image.
 */
export function blockPixels(height: string, width: string, y: string, x: string): string {
  return `
        let pixels = ${height} * ${width};
        var ns : array<i32, 4>;
        var ys : array<i32, 4>;
        var xs : array<i32, 4>;
        for (var r = 0; r < 4; r = r + 1) {
          let p = row0 + 4 * rq + r;
          ns[r] = select(-1, p / pixels, p < uniforms.rows);
          let py = (p % pixels) / ${width};
          let px = p % ${width};
          ys[r] = ${y};
          xs[r] = ${x};
        }`;
}

/**
 * WGSL: the tap (ki, kj) and channel `ch` of this thread's first inner entry, firstStep *
 * TILE_INNER + 4 * kq, over `channels` channels; `advanceInner` steps them on by TILE_INNER.
 */
export function innerEntryState(channels: string): string {
  return `
        let first = firstStep * ${TILE_INNER} + 4 * kq;
        var ch = first % ${channels};
        var ki = (first / ${channels}) / uniforms.filterWidth;
        var kj = (first / ${channels}) % uniforms.filterWidth;`;
}

export function advanceInner(channels: string): string {
  return `
          ch = ch + ${TILE_INNER};
          while (ch >= ${channels}) {
            ch = ch - ${channels};
            kj = kj + 1;
            if (kj == uniforms.filterWidth) {
              kj = 0;
              ki = ki + 1;
            }
          }`;
}

/**
 * WGSL: fills `v[r]`, r = 0..3, with inner entries m .. m + 3 of row r of this thread's block from
 * `buffer`, where `index(r, ki, kj, ch)` is the float index of an entry (or -1 for zero). With
 * `vec4`, the channels are a multiple of 4, so the four entries share a tap and are one vec4 read
 * at the stepped (ki, kj, ch); otherwise four scalar reads, each entry divided out.
 */
export function loadBlock(
  buffer: string,
  vec4: boolean,
  channels: string,
  index: (r: string, ki: string, kj: string, ch: string) => string,
): string {
  if (vec4) {
    return `
            if (m < uniforms.inner) {
              for (var r = 0; r < 4; r = r + 1) {
                let i = ${index('r', 'ki', 'kj', 'ch')};
                if (i >= 0) {
                  v[r] = ${buffer}[i / 4];
                }
              }
            }`;
  }
  return `
            for (var e = 0; e < 4; e = e + 1) {
              if (m + e < uniforms.inner) {
                let tap = (m + e) / ${channels};
                let c = (m + e) % ${channels};
                for (var r = 0; r < 4; r = r + 1) {
                  let i = ${index('r', 'tap / uniforms.filterWidth', 'tap % uniforms.filterWidth', 'c')};
                  if (i >= 0) {
                    v[r][e] = ${buffer}[i];
                  }
                }
              }
            }`;
}

/**
 * WGSL: stores this thread's block `v` (row r, entries e) into `tile` [inner][vec4s of rows]
 * transposed: entry e of the four rows as one vec4 at tile row 4 * kq + e, column rq. Whole vec4s
 * only: a write to one component of a shared vec4 can become a read-modify-write of all four (as
 * in Dawn's HLSL output), racing with the threads that write the others.
 */
export function storeBlock(tile: string): string {
  return ['x', 'y', 'z', 'w']
    .map(
      (e, i) => `
            ${tile}[4 * kq + ${i}][rq] = vec4<f32>(v[0].${e}, v[1].${e}, v[2].${e}, v[3].${e});`,
    )
    .join('');
}
