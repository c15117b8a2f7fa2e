import type * as tf from '@tensorflow/tfjs-core';
import {
  GROUP_NORM_GRAD_KERNEL,
  GROUP_NORM_KERNEL,
  GROUP_NORM_MODULATED_SILU_GRAD_KERNEL,
  GROUP_NORM_MODULATED_SILU_KERNEL,
  GROUP_NORM_SILU_GRAD_KERNEL,
  GROUP_NORM_SILU_KERNEL,
  type GroupNormAttrs,
} from '../group-norm-contract.js';
import { registerOwnKernels } from '../override-kernel.js';
import {
  channelGradientSumProgram,
  type GroupNormEpilogue,
  type GroupNormSizes,
  groupNormalizeProgram,
  groupNormInputGradientProgram,
  groupNormOnePassProgram,
  groupStatisticsProgram,
  modulationGradientProgram,
  sizeUniformValues,
} from './group-norm-programs.js';
import { floatUniforms, intUniforms, type WebGpuBackend } from './webgpu-program.js';

/**
 * GroupNorm as WGSL programs for tfjs-backend-webgpu, under the kernel names that `GroupNorm`
 * uses where a backend has them. Forward: the statistics (one workgroup per group), then the
 * output, or both in one dispatch where no gradient needs the statistics; backward: dx (one
 * workgroup per group), then the per-channel sums. The plain ops take about ten dispatches over
 * the whole activation forward and twenty backward. More kernels fuse SiLU, or a modulation and
 * SiLU, in after the norm. Safe to call again.
 */
export function registerGroupNormOnWebGpu(): void {
  registerOwnKernels('webgpu', {
    [GROUP_NORM_KERNEL]: (args) => groupNormForward(args, 'plain'),
    [GROUP_NORM_GRAD_KERNEL]: (args) => groupNormBackward(args, 'plain'),
    [GROUP_NORM_SILU_KERNEL]: (args) => groupNormForward(args, 'silu'),
    [GROUP_NORM_SILU_GRAD_KERNEL]: (args) => groupNormBackward(args, 'silu'),
    [GROUP_NORM_MODULATED_SILU_KERNEL]: (args) => groupNormForward(args, 'modulatedSilu'),
    [GROUP_NORM_MODULATED_SILU_GRAD_KERNEL]: (args) => groupNormBackward(args, 'modulatedSilu'),
  });
}

/** The forward kernel, with `epilogue` fused in after the norm. */
function groupNormForward(
  { inputs, backend, attrs }: Parameters<tf.KernelFunc>[0],
  epilogue: GroupNormEpilogue,
): tf.TensorInfo[] {
  const gpu = backend as WebGpuBackend;
  const { x, weight, bias, scaleShift } = inputs as Record<string, tf.TensorInfo>;
  const { groups, eps, withStatistics = true } = attrs as unknown as GroupNormAttrs;
  const sizes = groupNormSizes(x!, groups);
  const sizeUniforms = [...intUniforms(...sizeUniformValues(sizes)), ...floatUniforms(eps)];
  const modulation = epilogue === 'modulatedSilu' ? [scaleShift!] : [];
  if (!withStatistics) {
    const program = groupNormOnePassProgram(sizes, x!.shape, epilogue);
    return [gpu.runWebGPUProgram(program, [x!, weight!, bias!, ...modulation], 'float32', sizeUniforms)];
  }
  const statistics = gpu.runWebGPUProgram(groupStatisticsProgram(sizes), [x!], 'float32', sizeUniforms);
  const y = gpu.runWebGPUProgram(
    groupNormalizeProgram(x!.shape, epilogue),
    [x!, statistics, weight!, bias!, ...modulation],
    'float32',
    intUniforms(...sizeUniformValues(sizes)),
  );
  return [y, statistics];
}

/**
 * The backward kernel; through an epilogue its inputs include the bias (and the modulation, whose
 * gradient it returns last).
 */
function groupNormBackward(
  { inputs, backend }: Parameters<tf.KernelFunc>[0],
  epilogue: GroupNormEpilogue,
): tf.TensorInfo[] {
  const gpu = backend as WebGpuBackend;
  const { dy, x, weight, bias, scaleShift, statistics } = inputs as Record<string, tf.TensorInfo>;
  const modulation = epilogue === 'modulatedSilu' ? [scaleShift!] : [];
  const withBias = epilogue === 'plain' ? [] : [bias!, ...modulation];
  const groups = statistics!.shape[2] as number;
  const sizes = groupNormSizes(x!, groups);
  const uniforms = intUniforms(...sizeUniformValues(sizes));
  const dx = gpu.runWebGPUProgram(
    groupNormInputGradientProgram(sizes, x!.shape, epilogue),
    [dy!, x!, weight!, statistics!, ...withBias],
    'float32',
    uniforms,
  );
  // These programs read the kernel's inputs of the same names, which differ by output and epilogue.
  const channelSum = (output: 'weight' | 'bias') => {
    const program = channelGradientSumProgram(sizes, epilogue, output);
    const programInputs = program.variableNames.map((name) => (inputs as tf.NamedTensorInfoMap)[name]!);
    return gpu.runWebGPUProgram(program, programInputs, 'float32', [
      ...uniforms,
      ...intUniforms(sizes.batch),
    ]);
  };
  const dWeight = channelSum('weight');
  const dBias = channelSum('bias');
  if (epilogue !== 'modulatedSilu') return [dx, dWeight, dBias];
  const dScaleShift = gpu.runWebGPUProgram(
    modulationGradientProgram(sizes),
    [dy!, x!, weight!, statistics!, bias!, scaleShift!],
    'float32',
    uniforms,
  );
  return [dx, dWeight, dBias, dScaleShift];
}

function groupNormSizes(x: tf.TensorInfo, groups: number): GroupNormSizes {
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  return { batch, pixels: height * width, channels, groups };
}
