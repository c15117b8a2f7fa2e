import * as tf from '@tensorflow/tfjs-core';
import {
  ADAMW_KERNEL,
  type AdamWKernelAttrs,
  EMA_KERNEL,
  type EmaKernelAttrs,
  SQUARED_SUM_KERNEL,
} from '../optimizer-kernels-contract.js';
import { registerOwnKernels } from '../override-kernel.js';
import {
  elementwiseFields,
  floatUniforms,
  intUniforms,
  type WebGpuBackend,
  type WebGpuProgram,
} from './webgpu-program.js';
import { REDUCE_THREADS, WORKGROUP_SUM } from './workgroup-sum.js';

const ELEMENT_THREADS = 256;
/** Entries one workgroup of the squared sum reduces: one dispatch up to this size, two beyond. */
const SUM_CHUNK = REDUCE_THREADS * 64;

/** An elementwise program over `shape` reading `variableNames`, computing `value` (WGSL) at `index`. */
function elementwiseProgram(
  name: string,
  variableNames: string[],
  shape: number[],
  uniforms: string,
  value: string,
): WebGpuProgram {
  return {
    variableNames,
    shaderKey: `dalle2js_${name}`,
    ...elementwiseFields(shape, ELEMENT_THREADS),
    uniforms,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          setOutputAtIndex(index, ${value});
        }
      }
    `,
  };
}

/**
 * An AdamW moment: beta m + (1 - beta) g, or with `squared` beta v + (1 - beta) g², where g is the
 * gradient, times gradScale[0] when `scaled`.
 */
function momentProgram(shape: number[], squared: boolean, scaled: boolean): WebGpuProgram {
  const g = scaled ? '(grad[index] * gradScale[0])' : 'grad[index]';
  return elementwiseProgram(
    `adamw_${squared ? 'second' : 'first'}_moment${scaled ? '_scaled' : ''}`,
    ['moment', 'grad', ...(scaled ? ['gradScale'] : [])],
    shape,
    'beta : f32, oneMinusBeta : f32,',
    `moment[index] * uniforms.beta + ${squared ? `${g} * ${g}` : g} * uniforms.oneMinusBeta`,
  );
}

/** The AdamW parameter update: decayFactor p - stepSize m / (sqrt(v) / biasCorrection2Sqrt + eps). */
function adamWParameterProgram(shape: number[]): WebGpuProgram {
  return elementwiseProgram(
    'adamw_parameter',
    ['param', 'expAvg', 'expAvgSq'],
    shape,
    'decayFactor : f32, stepSize : f32, biasCorrection2Sqrt : f32, eps : f32,',
    'param[index] * uniforms.decayFactor - expAvg[index] / (sqrt(expAvgSq[index]) / uniforms.biasCorrection2Sqrt + uniforms.eps) * uniforms.stepSize',
  );
}

function emaProgram(shape: number[]): WebGpuProgram {
  return elementwiseProgram(
    'ema_update',
    ['shadow', 'param'],
    shape,
    'oneMinusDecay : f32,',
    'shadow[index] - (shadow[index] - param[index]) * uniforms.oneMinusDecay',
  );
}

/**
 * out [chunks]: per chunk of `uniforms.chunk` entries of x, the sum of their squares (or, without
 * `square`, of the entries: the second pass over the chunks' sums). A workgroup a chunk.
 */
function chunkSumProgram(length: number, square: boolean): WebGpuProgram {
  const chunks = Math.max(1, Math.ceil(length / SUM_CHUNK));
  return {
    variableNames: ['x'],
    outputShape: chunks === 1 ? [] : [chunks],
    shaderKey: `dalle2js_chunk_sum${square ? '_of_squares' : ''}`,
    dispatchLayout: { x: [] },
    dispatch: [chunks, 1, 1],
    workgroupSize: [REDUCE_THREADS, 1, 1],
    uniforms: 'length : i32, chunk : i32,',
    getUserCode: () => `
      ${WORKGROUP_SUM}
      fn main(index : i32) {
        let start = i32(workgroupId.x) * uniforms.chunk;
        let end = min(start + uniforms.chunk, uniforms.length);
        var sum = 0.0;
        for (var i = start + i32(localId.x); i < end; i = i + ${REDUCE_THREADS}) {
          let value = x[i];
          sum = sum + ${square ? 'value * value' : 'value'};
        }
        let total = workgroupSum(sum);
        if (localId.x == 0u) {
          setOutputAtIndex(i32(workgroupId.x), total);
        }
      }
    `,
  };
}

/** The squared sum: one dispatch up to SUM_CHUNK entries, then one more per SUM_CHUNK-fold. */
function squaredSum(gpu: WebGpuBackend, x: tf.TensorInfo): tf.TensorInfo {
  let length = tf.util.sizeFromShape(x.shape);
  let sums = gpu.runWebGPUProgram(
    chunkSumProgram(length, true),
    [x],
    'float32',
    intUniforms(length, SUM_CHUNK),
  );
  while (sums.shape.length > 0) {
    length = sums.shape[0] as number;
    const next = gpu.runWebGPUProgram(
      chunkSumProgram(length, false),
      [sums],
      'float32',
      intUniforms(length, SUM_CHUNK),
    );
    gpu.disposeData(sums.dataId);
    sums = next;
  }
  return sums;
}

/**
 * The optimizer's updates in fewer dispatches than plain ops take: AdamW in three (the two
 * moments, then the parameter from them; about thirteen as ops), an EMA update in one (three), a
 * squared sum in one up to 16384 entries (two). `AdamW`, `EMA` and the gradient norm call them
 * while `setWebGpuKernels({ optimizer })` is on. Safe to call again.
 */
export function registerOptimizerKernelsOnWebGpu(): void {
  registerOwnKernels('webgpu', {
    [ADAMW_KERNEL]: ({ inputs, backend, attrs }) => {
      const gpu = backend as WebGpuBackend;
      const { param, grad, expAvg, expAvgSq, gradScale } = inputs as Record<
        string,
        tf.TensorInfo | undefined
      >;
      const a = attrs as unknown as AdamWKernelAttrs;
      const shape = param!.shape;
      const scale = gradScale ? [gradScale] : [];
      const moment = (previous: tf.TensorInfo, squared: boolean, beta: number) =>
        gpu.runWebGPUProgram(
          momentProgram(shape, squared, scale.length > 0),
          [previous, grad!, ...scale],
          'float32',
          floatUniforms(beta, 1 - beta),
        );
      const m = moment(expAvg!, false, a.beta1);
      const v = moment(expAvgSq!, true, a.beta2);
      const p = gpu.runWebGPUProgram(
        adamWParameterProgram(shape),
        [param!, m, v],
        'float32',
        floatUniforms(a.decayFactor, a.stepSize, a.biasCorrection2Sqrt, a.eps),
      );
      return [p, m, v];
    },
    [EMA_KERNEL]: ({ inputs, backend, attrs }) => {
      const { shadow, param } = inputs as Record<string, tf.TensorInfo>;
      const { oneMinusDecay } = attrs as unknown as EmaKernelAttrs;
      return (backend as WebGpuBackend).runWebGPUProgram(
        emaProgram(shadow!.shape),
        [shadow!, param!],
        'float32',
        floatUniforms(oneMinusDecay),
      );
    },
    [SQUARED_SUM_KERNEL]: ({ inputs, backend }) =>
      squaredSum(backend as WebGpuBackend, (inputs as { x: tf.TensorInfo }).x),
  });
}
