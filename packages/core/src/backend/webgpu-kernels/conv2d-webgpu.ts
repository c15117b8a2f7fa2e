import * as tf from '@tensorflow/tfjs-core';
import { runConvGemm } from './conv-gemm.js';
import { type ConvAttrs, convInfo, overrideConvOnWebGpu } from './conv-kernel.js';
import { conv2dProgram, conv2dTiling } from './conv2d-program.js';

/**
 * Replaces tfjs-backend-webgpu's Conv2D (a GEMM of 32 x 32 tiles) with an implicit-GEMM kernel of
 * larger tiles (see `conv2dProgram`); switched by `setWebGpuKernels({ conv2d })`.
 */
export function overrideConv2dOnWebGpu(): void {
  overrideConvOnWebGpu<ConvAttrs>(tf.Conv2D, 'conv2d', (gpu, { x, filter }, attrs) => {
    const info = convInfo(x!.shape, filter!.shape, attrs);
    const rows = info.batchSize * info.outHeight * info.outWidth;
    const cols = info.outChannels;
    const tiling = conv2dTiling(rows, cols, gpu.device.limits.maxComputeWorkgroupStorageSize);
    return runConvGemm(gpu, info, {
      rows,
      cols,
      channels: info.inChannels,
      tiling,
      program: (splits) => conv2dProgram(rows, cols, info.inChannels, tiling, splits),
      inputs: [x!, filter!],
      shape: info.outShape,
    });
  });
}
