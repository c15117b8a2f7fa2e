import * as tf from '@tensorflow/tfjs-core';
import { overrideKernel } from '../override-kernel.js';
import { inputGradProgram, inputGradTiling, TILE_INNER } from './conv2d-input-grad-program.js';
import { sumSplits } from './split-sum.js';
import { splitInner, tileCounts } from './tiled-gemm.js';
import { webGpuKernelEnabled } from './webgpu-kernels-switch.js';
import { intUniforms, type WebGpuBackend } from './webgpu-program.js';

interface InputGradAttrs {
  inputShape: [number, number, number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * Replaces tfjs-backend-webgpu's Conv2DBackpropInput (by default one thread per input entry, each
 * reading kh * kw * out values of dy and of the filter from global memory) with an implicit-GEMM
 * kernel (see `inputGradProgram`) for NHWC; NCHW, and every call while
 * `setWebGpuKernels({ conv2dInputGrad: false })`, stays with the original. Does nothing until
 * tfjs-backend-webgpu has registered its kernels.
 */
export function overrideConv2dInputGradOnWebGpu(): void {
  overrideKernel('webgpu', tf.Conv2DBackpropInput, (original) => (args) => {
    const attrs = args.attrs as unknown as InputGradAttrs;
    if (attrs.dataFormat === 'NCHW' || !webGpuKernelEnabled('conv2dInputGrad')) return original(args);
    return conv2dInputGrad(
      args.backend as WebGpuBackend,
      args.inputs as Record<string, tf.TensorInfo>,
      attrs,
    );
  });
}

function conv2dInputGrad(
  gpu: WebGpuBackend,
  { dy, filter }: Record<string, tf.TensorInfo>,
  { inputShape, strides, pad, dimRoundingMode }: InputGradAttrs,
): tf.TensorInfo {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter!.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const rows = info.batchSize * info.inHeight * info.inWidth;
  const inner = info.filterHeight * info.filterWidth * info.outChannels;
  const uniforms = intUniforms(
    rows,
    info.inChannels,
    inner,
    info.outChannels,
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
  const tiling = inputGradTiling(rows, info.inChannels, gpu.device.limits.maxComputeWorkgroupStorageSize);
  const [colTiles, rowTiles] = tileCounts(rows, info.inChannels, tiling);
  const { splits, stepsPerSplit } = splitInner(colTiles * rowTiles, Math.ceil(inner / TILE_INNER));
  const program = inputGradProgram(rows, info.inChannels, info.outChannels, tiling, splits);
  const partial = gpu.runWebGPUProgram(program, [dy!, filter!], 'float32', [
    ...uniforms,
    ...intUniforms(stepsPerSplit),
  ]);
  return sumSplits(gpu, partial, splits, inputShape);
}
