import type * as tf from '@tensorflow/tfjs-core';
import { sumSplits } from './split-sum.js';
import { type GemmTiling, splitInner, tileCounts } from './tiled-gemm.js';
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
  return [
    `rows : i32, cols : i32, inner : i32, ${channels} : i32,`,
    'inHeight : i32, inWidth : i32, outHeight : i32, outWidth : i32, filterWidth : i32,',
    'strideHeight : i32, strideWidth : i32, padTop : i32, padLeft : i32, stepsPerSplit : i32,',
  ].join(' ');
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
  const uniforms = intUniforms(
    rows,
    cols,
    inner,
    channels,
    info.inHeight,
    info.inWidth,
    info.outHeight,
    info.outWidth,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
    stepsPerSplit,
  );
  const partial = gpu.runWebGPUProgram(program(splits), inputs, 'float32', uniforms);
  return sumSplits(gpu, partial, splits, shape);
}
