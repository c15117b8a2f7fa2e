import * as tf from '@tensorflow/tfjs-core';
import { overrideKernel } from '../override-kernel.js';
import {
  type FilterGradSizes,
  filterGradProgram,
  filterGradTiling,
  stepsPerSplit,
  TILE_PIXELS,
} from './conv2d-filter-grad-program.js';
import { sumSplits } from './split-sum.js';
import { splitInner, tileCounts } from './tiled-gemm.js';
import { webGpuKernelEnabled } from './webgpu-kernels-switch.js';
import { intUniforms, type WebGpuBackend } from './webgpu-program.js';

interface FilterGradAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * Replaces tfjs-backend-webgpu's Conv2DBackpropFilter (one thread per filter entry, each summing
 * over every output pixel) with an implicit-GEMM kernel (see `filterGradProgram`) for NHWC; NCHW,
 * and every call while `setWebGpuKernels({ conv2dFilterGrad: false })`, stays with the original. Does nothing until tfjs-backend-webgpu has registered its kernels.
 */
export function overrideConv2dFilterGradOnWebGpu(): void {
  overrideKernel('webgpu', tf.Conv2DBackpropFilter, (original) => (args) => {
    const attrs = args.attrs as unknown as FilterGradAttrs;
    if (attrs.dataFormat === 'NCHW' || !webGpuKernelEnabled('conv2dFilterGrad')) return original(args);
    return conv2dFilterGrad(
      args.backend as WebGpuBackend,
      args.inputs as Record<string, tf.TensorInfo>,
      attrs,
    );
  });
}

function conv2dFilterGrad(
  gpu: WebGpuBackend,
  { x, dy }: Record<string, tf.TensorInfo>,
  { strides, pad, dimRoundingMode, filterShape }: FilterGradAttrs,
): tf.TensorInfo {
  const info = tf.backend_util.computeConv2DInfo(
    x!.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const sizes = splitSizes(
    info.filterHeight * info.filterWidth * info.inChannels,
    info.outChannels,
    info.batchSize * info.outHeight * info.outWidth,
  );
  const uniforms = intUniforms(
    sizes.rows,
    sizes.cols,
    sizes.pixels,
    sizes.pixelsPerSplit,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
    stepsPerSplit(sizes),
  );
  const partial = gpu.runWebGPUProgram(
    filterGradProgram(sizes, info.inChannels),
    [x!, dy!],
    'float32',
    uniforms,
  );
  return sumSplits(gpu, partial, sizes.splits, filterShape);
}

/** How many ways to split the pixel sum of a rows x cols gradient, and the pixels in each split. */
export function splitSizes(rows: number, cols: number, pixels: number): FilterGradSizes {
  const [colTiles, rowTiles] = tileCounts(rows, cols, filterGradTiling(rows, cols));
  const { splits, stepsPerSplit } = splitInner(colTiles * rowTiles, Math.ceil(pixels / TILE_PIXELS));
  return { rows, cols, pixels, pixelsPerSplit: stepsPerSplit * TILE_PIXELS, splits };
}
