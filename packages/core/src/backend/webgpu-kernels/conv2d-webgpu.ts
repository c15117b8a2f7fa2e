import * as tf from '@tensorflow/tfjs-core';
import { registerOwnKernels } from '../override-kernel.js';
import { CONV2D_RESIDUAL_KERNEL } from '../residual-kernels-contract.js';
import { runConvGemm } from './conv-gemm.js';
import { type ConvAttrs, convInfo, overrideConvOnWebGpu } from './conv-kernel.js';
import { conv2dProgram, conv2dTiling } from './conv2d-program.js';
import { webGpuKernelEnabled } from './webgpu-kernels-switch.js';
import { addResidual, runWebGpuKernel, type WebGpuBackend } from './webgpu-program.js';

/** The attributes of FusedConv2D that decide whether ours applies. */
interface FusedConvAttrs extends ConvAttrs {
  activation?: string;
}

/**
 * Replaces tfjs-backend-webgpu's Conv2D (a GEMM of 32 x 32 tiles) with an implicit-GEMM kernel of
 * larger tiles (see `conv2dProgram`), and its FusedConv2D likewise where the fusion is a bias of
 * one value per output channel and no activation (`tf.fused.conv2d`, as `Conv2d` layers with a
 * bias call it): one dispatch instead of a conv and an add. Switched by
 * `setWebGpuKernels({ conv2d })`. Registers CONV2D_RESIDUAL_KERNEL, the same conv adding a
 * residual as it stores (tfjs' conv and an add where ours does not apply).
 */
export function overrideConv2dOnWebGpu(): void {
  overrideConvOnWebGpu<ConvAttrs>(tf.Conv2D, 'conv2d', (gpu, { x, filter }, attrs) =>
    conv2d(gpu, x!, filter!, undefined, attrs),
  );
  overrideConvOnWebGpu<FusedConvAttrs>(
    tf.FusedConv2D,
    'conv2d',
    (gpu, { x, filter, bias }, attrs) => conv2d(gpu, x!, filter!, bias, attrs),
    ({ filter, bias, preluActivationWeights }, { activation }) =>
      (activation ?? 'linear') === 'linear' &&
      preluActivationWeights === undefined &&
      (bias === undefined || (bias.shape.length === 1 && bias.shape[0] === filter!.shape[3])),
  );
  registerOwnKernels('webgpu', {
    [CONV2D_RESIDUAL_KERNEL]: ({ inputs, backend, attrs }) => {
      const gpu = backend as WebGpuBackend;
      const { x, filter, bias, residual } = inputs as Record<string, tf.TensorInfo>;
      const convAttrs = attrs as unknown as ConvAttrs;
      if (webGpuKernelEnabled('conv2d')) return conv2d(gpu, x!, filter!, bias, convAttrs, residual);
      const y = runWebGpuKernel(tf.FusedConv2D, gpu, { x: x!, filter: filter!, bias: bias! }, attrs!);
      return addResidual(gpu, y, residual!);
    },
  });
}

function conv2d(
  gpu: WebGpuBackend,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  attrs: ConvAttrs,
  residual?: tf.TensorInfo,
): tf.TensorInfo {
  const info = convInfo(x.shape, filter.shape, attrs);
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const cols = info.outChannels;
  const tiling = conv2dTiling(rows, cols, gpu.device.limits.maxComputeWorkgroupStorageSize);
  return runConvGemm(gpu, info, {
    rows,
    cols,
    channels: info.inChannels,
    tiling,
    program: (splits) =>
      conv2dProgram(rows, cols, info.inChannels, tiling, splits, bias !== undefined, residual !== undefined),
    inputs: [x, filter, ...(bias ? [bias] : []), ...(residual ? [residual] : [])],
    shape: info.outShape,
  });
}
