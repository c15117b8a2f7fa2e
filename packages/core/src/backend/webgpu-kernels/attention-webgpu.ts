import type * as tf from '@tensorflow/tfjs-core';
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL, type AttentionAttrs } from '../attention-contract.js';
import { registerOwnKernels } from '../override-kernel.js';
import {
  type AttentionSizes,
  attentionDeltaProgram,
  attentionForwardProgram,
  attentionKeyValueGradProgram,
  attentionQueryGradProgram,
} from './attention-programs.js';
import {
  floatUniforms,
  intUniforms,
  type ProgramUniform,
  slicePart,
  type WebGpuBackend,
} from './webgpu-program.js';

/**
 * Scaled dot-product attention as WGSL programs for tfjs-backend-webgpu (see attention-programs.ts):
 * one pass forward that never stores the T x S scores, and a backward of three passes that
 * recompute them. `MultiheadAttention` uses them where no mask is asked for and
 * `attentionHeadSizeSupported`. Safe to call again.
 */
export function registerAttentionOnWebGpu(): void {
  registerOwnKernels('webgpu', {
    [ATTENTION_KERNEL]: attentionForward,
    [ATTENTION_GRAD_KERNEL]: attentionBackward,
  });
}

function attentionForward({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const gpu = backend as WebGpuBackend;
  const { q, k, v } = inputs as Record<string, tf.TensorInfo>;
  const sizes = attentionSizes(q!, k!);
  const { scale } = attrs as unknown as AttentionAttrs;
  const both = gpu.runWebGPUProgram(
    attentionForwardProgram(sizes),
    [q!, k!, v!],
    'float32',
    uniforms(sizes, scale),
  );
  try {
    const outSize = sizes.n * sizes.queries * sizes.headSize;
    return [
      slicePart(gpu, both, [0], [outSize], q!.shape),
      slicePart(gpu, both, [outSize], [sizes.n * sizes.queries], [sizes.n, sizes.queries]),
    ];
  } finally {
    gpu.disposeData(both.dataId);
  }
}

function attentionBackward({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const gpu = backend as WebGpuBackend;
  const { dOut, q, k, v, out, logsumexp } = inputs as Record<string, tf.TensorInfo>;
  const sizes = attentionSizes(q!, k!);
  const values = uniforms(sizes, (attrs as unknown as AttentionAttrs).scale);
  const delta = gpu.runWebGPUProgram(attentionDeltaProgram(sizes), [dOut!, out!], 'float32', values);
  try {
    const gradInputs = [dOut!, q!, k!, v!, logsumexp!, delta];
    const dq = gpu.runWebGPUProgram(attentionQueryGradProgram(sizes), gradInputs, 'float32', values);
    const keyValue = gpu.runWebGPUProgram(attentionKeyValueGradProgram(sizes), gradInputs, 'float32', values);
    try {
      const half = sizes.n * sizes.keys * sizes.headSize;
      return [
        dq,
        slicePart(gpu, keyValue, [0], [half], k!.shape),
        slicePart(gpu, keyValue, [half], [half], v!.shape),
      ];
    } finally {
      gpu.disposeData(keyValue.dataId);
    }
  } finally {
    gpu.disposeData(delta.dataId);
  }
}

function attentionSizes(q: tf.TensorInfo, k: tf.TensorInfo): AttentionSizes {
  const [n, queries, headSize] = q.shape as [number, number, number];
  return { n, queries, keys: k.shape[1] as number, headSize };
}

function uniforms({ n, queries, keys }: AttentionSizes, scale: number): ProgramUniform[] {
  return [...intUniforms(n, queries, keys), ...floatUniforms(scale)];
}
