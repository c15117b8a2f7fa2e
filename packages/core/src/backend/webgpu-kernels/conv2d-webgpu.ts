import * as tf from '@tensorflow/tfjs-core';
import { overrideKernel } from '../override-kernel.js';
import { conv2dProgram, conv2dTiling, TILE_INNER } from './conv2d-program.js';
import { sumSplits } from './split-sum.js';
import { splitInner, tileCounts } from './tiled-gemm.js';
import { webGpuKernelEnabled } from './webgpu-kernels-switch.js';
import { intUniforms, type WebGpuBackend } from './webgpu-program.js';

interface Conv2dAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * Replaces tfjs-backend-webgpu's Conv2D with an implicit-GEMM kernel (see `conv2dProgram`) for
 * NHWC without dilation; NCHW, dilated convs, and every call while `setWebGpuKernels({ conv2d:
 * false })`, stay with the original. Does nothing until tfjs-backend-webgpu has registered its
 * kernels.
 */
export function overrideConv2dOnWebGpu(): void {
  overrideKernel('webgpu', tf.Conv2D, (original) => (args) => {
    const attrs = args.attrs as unknown as Conv2dAttrs;
    const dilated = [attrs.dilations].flat().some((rate) => rate !== 1);
    if (attrs.dataFormat === 'NCHW' || dilated || !webGpuKernelEnabled('conv2d')) return original(args);
    return conv2d(args.backend as WebGpuBackend, args.inputs as Record<string, tf.TensorInfo>, attrs);
  });
}

function conv2d(
  gpu: WebGpuBackend,
  { x, filter }: Record<string, tf.TensorInfo>,
  { strides, pad, dimRoundingMode }: Conv2dAttrs,
): tf.TensorInfo {
  const info = tf.backend_util.computeConv2DInfo(
    x!.shape as [number, number, number, number],
    filter!.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const inner = info.filterHeight * info.filterWidth * info.inChannels;
  const uniforms = intUniforms(
    rows,
    info.outChannels,
    inner,
    info.inChannels,
    info.inHeight,
    info.inWidth,
    info.outHeight,
    info.outWidth,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  );
  const tiling = conv2dTiling(rows, info.outChannels, gpu.device.limits.maxComputeWorkgroupStorageSize);
  const [colTiles, rowTiles] = tileCounts(rows, info.outChannels, tiling);
  const { splits, stepsPerSplit } = splitInner(colTiles * rowTiles, Math.ceil(inner / TILE_INNER));
  const program = conv2dProgram(rows, info.outChannels, info.inChannels, tiling, splits);
  const partial = gpu.runWebGPUProgram(program, [x!, filter!], 'float32', [
    ...uniforms,
    ...intUniforms(stepsPerSplit),
  ]);
  return sumSplits(gpu, partial, splits, info.outShape);
}
