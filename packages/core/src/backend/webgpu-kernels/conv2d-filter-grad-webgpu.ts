import * as tf from '@tensorflow/tfjs-core';
import { type ConvAttrs, convGeometry, convInfo, overrideConvOnWebGpu } from './conv-kernel.js';
import {
  type FilterGradSizes,
  filterGradProgram,
  filterGradTiling,
  TILE_PIXELS,
} from './conv2d-filter-grad-program.js';
import { sumSplits } from './split-sum.js';
import { splitInner, tileCounts } from './tiled-gemm.js';
import { intUniforms, type WebGpuBackend } from './webgpu-program.js';

interface FilterGradAttrs extends ConvAttrs {
  filterShape: [number, number, number, number];
}

/**
 * Replaces tfjs-backend-webgpu's Conv2DBackpropFilter (one thread per filter entry, each summing
 * over every output pixel) with an implicit-GEMM kernel (see `filterGradProgram`); switched by
 * `setWebGpuKernels({ conv2dFilterGrad })`.
 */
export function overrideConv2dFilterGradOnWebGpu(): void {
  overrideConvOnWebGpu<FilterGradAttrs>(tf.Conv2DBackpropFilter, 'conv2dFilterGrad', conv2dFilterGrad);
}

function conv2dFilterGrad(
  gpu: WebGpuBackend,
  { x, dy }: Record<string, tf.TensorInfo>,
  attrs: FilterGradAttrs,
): tf.TensorInfo {
  const info = convInfo(x!.shape, attrs.filterShape, attrs);
  const sizes = splitSizes(
    info.filterHeight * info.filterWidth * info.inChannels,
    info.outChannels,
    info.batchSize * info.outHeight * info.outWidth,
  );
  const uniforms = intUniforms(
    sizes.rows,
    sizes.cols,
    sizes.pixels,
    sizes.stepsPerSplit,
    info.inChannels,
    ...convGeometry(info),
  );
  const partial = gpu.runWebGPUProgram(
    filterGradProgram(sizes, info.inChannels),
    [x!, dy!],
    'float32',
    uniforms,
  );
  return sumSplits(gpu, partial, sizes.splits, attrs.filterShape);
}

/** How many ways to split the pixel sum of a rows x cols gradient, and the steps in each split. */
export function splitSizes(rows: number, cols: number, pixels: number): FilterGradSizes {
  const [colTiles, rowTiles] = tileCounts(rows, cols, filterGradTiling(rows, cols));
  const { splits, stepsPerSplit } = splitInner(colTiles * rowTiles, Math.ceil(pixels / TILE_PIXELS));
  return { rows, cols, pixels, splits, stepsPerSplit };
}
