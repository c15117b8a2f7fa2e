import type * as tf from '@tensorflow/tfjs-core';
import {
  ADAMW_KERNEL,
  type AdamWKernelAttrs,
  EMA_KERNEL,
  type EmaKernelAttrs,
  SQUARED_SUM_KERNEL,
} from '../optimizer-kernels-contract.js';
import { registerOwnKernels } from '../override-kernel.js';
import { squaredSumOfAll } from './squared-sum-webgpu.js';
import {
  elementwiseFields,
  floatUniforms,
  type WebGpuBackend,
  type WebGpuProgram,
} from './webgpu-program.js';

const ELEMENT_THREADS = 256;

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
 * The optimizer's updates in fewer dispatches than plain ops take: AdamW in three (the two
 * moments, then the parameter from them; about thirteen as ops), an EMA update in one (three), the
 * squared norm of all gradients in one per seven gradients (two per gradient, then a stack and a
 * sum; see `squaredSumOfAll`). `AdamW`, `EMA` and the gradient norm call them
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
      squaredSumOfAll(backend as WebGpuBackend, Object.values(inputs as Record<string, tf.TensorInfo>)),
  });
}
