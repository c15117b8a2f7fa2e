import * as tf from '@tensorflow/tfjs-core';
import { overrideKernel } from '../override-kernel.js';
import { type WebGpuKernel, webGpuKernelEnabled } from './webgpu-kernels-switch.js';
import type { WebGpuBackend } from './webgpu-program.js';

/** The attributes of tfjs' Conv2D and of its two gradients that our kernels read. */
export interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

type Shape4D = [number, number, number, number];

type ConvKernel<A> = (gpu: WebGpuBackend, inputs: Record<string, tf.TensorInfo>, attrs: A) => tf.TensorInfo;

/**
 * Replaces tfjs-backend-webgpu's `kernelName` (Conv2D, FusedConv2D or one of the gradients) with
 * `kernel` for NHWC convs without dilation; NCHW, dilated convs, calls that `applies` refuses, and
 * every call while `switchKey` is off (`setWebGpuKernels`), stay with the original. Does nothing
 * until tfjs-backend-webgpu has registered its kernels.
 */
export function overrideConvOnWebGpu<A extends ConvAttrs>(
  kernelName: string,
  switchKey: WebGpuKernel,
  kernel: ConvKernel<A>,
  applies: (inputs: Record<string, tf.TensorInfo | undefined>, attrs: A) => boolean = () => true,
): void {
  overrideKernel('webgpu', kernelName, (original) => (args) => {
    const attrs = args.attrs as unknown as A;
    const inputs = args.inputs as Record<string, tf.TensorInfo>;
    const dilated = [attrs.dilations ?? 1].flat().some((rate) => rate !== 1);
    const ours = attrs.dataFormat !== 'NCHW' && !dilated && webGpuKernelEnabled(switchKey);
    if (!ours || !applies(inputs, attrs)) return original(args);
    return kernel(args.backend as WebGpuBackend, inputs, attrs);
  });
}

/** tfjs' description of an NHWC conv2d without dilation. */
export function convInfo(
  xShape: number[],
  filterShape: number[],
  { strides, pad, dimRoundingMode }: ConvAttrs,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4D,
    filterShape as Shape4D,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
}

/** The conv geometry every conv GEMM program takes as its last uniforms (see `convGeometry`). */
export const CONV_GEOMETRY_UNIFORMS = [
  'inHeight : i32, inWidth : i32, outHeight : i32, outWidth : i32, filterWidth : i32,',
  'strideHeight : i32, strideWidth : i32, padTop : i32, padLeft : i32,',
].join(' ');

/** The values of CONV_GEOMETRY_UNIFORMS, in order. */
export function convGeometry(info: tf.backend_util.Conv2DInfo): number[] {
  return [
    info.inHeight,
    info.inWidth,
    info.outHeight,
    info.outWidth,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}
