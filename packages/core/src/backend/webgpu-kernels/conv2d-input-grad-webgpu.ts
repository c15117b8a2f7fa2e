import * as tf from '@tensorflow/tfjs-core';
import { runConvGemm } from './conv-gemm.js';
import { type ConvAttrs, convInfo, overrideConvOnWebGpu } from './conv-kernel.js';
import { inputGradProgram, inputGradTiling } from './conv2d-input-grad-program.js';

interface InputGradAttrs extends ConvAttrs {
  inputShape: [number, number, number, number];
}

/**
 * Replaces tfjs-backend-webgpu's Conv2DBackpropInput (by default one thread per input entry, each
 * reading kh * kw * out values of dy and of the filter from global memory) with an implicit-GEMM
 * kernel (see `inputGradProgram`); switched by `setWebGpuKernels({ conv2dInputGrad })`.
 */
export function overrideConv2dInputGradOnWebGpu(): void {
  overrideConvOnWebGpu<InputGradAttrs>(
    tf.Conv2DBackpropInput,
    'conv2dInputGrad',
    (gpu, { dy, filter }, attrs) => {
      const info = convInfo(attrs.inputShape, filter!.shape, attrs);
      const rows = info.batchSize * info.inHeight * info.inWidth;
      const cols = info.inChannels;
      const tiling = inputGradTiling(rows, cols, gpu.device.limits.maxComputeWorkgroupStorageSize);
      return runConvGemm(gpu, info, {
        rows,
        cols,
        channels: info.outChannels,
        tiling,
        program: (splits) => inputGradProgram(rows, cols, info.outChannels, tiling, splits),
        inputs: [dy!, filter!],
        shape: attrs.inputShape,
      });
    },
  );
}
