import * as tf from '@tensorflow/tfjs-core';
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
  flatDispatch,
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
 * Both AdamW moments [2, ...shape], a thread per parameter entry: m' = beta1 m + (1 - beta1) g and
 * v' = beta2 v + (1 - beta2) g², where g is the gradient, times gradScale[0] when `scaled`.
 */
function momentsProgram(shape: number[], scaled: boolean): WebGpuProgram {
  const entries = tf.util.sizeFromShape(shape);
  return {
    variableNames: ['moments', 'grad', ...(scaled ? ['gradScale'] : [])],
    shaderKey: `dalle2js_adamw_moments${scaled ? '_scaled' : ''}`,
    ...elementwiseFields([2, ...shape], ELEMENT_THREADS),
    dispatch: flatDispatch(entries, ELEMENT_THREADS),
    uniforms: 'beta1 : f32, oneMinusBeta1 : f32, beta2 : f32, oneMinusBeta2 : f32,',
    getUserCode: () => `
      fn main(index : i32) {
        let entries = uniforms.size / 2;
        if (index < entries) {
          let g = grad[index]${scaled ? ' * gradScale[0]' : ''};
          setOutputAtIndex(index, moments[index] * uniforms.beta1 + g * uniforms.oneMinusBeta1);
          setOutputAtIndex(entries + index, moments[entries + index] * uniforms.beta2 + g * g * uniforms.oneMinusBeta2);
        }
      }
    `,
  };
}

/** The AdamW parameter update: decayFactor p - stepSize m / (sqrt(v) / biasCorrection2Sqrt + eps). */
function adamWParameterProgram(shape: number[]): WebGpuProgram {
  return elementwiseProgram(
    'adamw_parameter',
    ['param', 'moments'],
    shape,
    'decayFactor : f32, stepSize : f32, biasCorrection2Sqrt : f32, eps : f32,',
    'param[index] * uniforms.decayFactor - moments[index] / (sqrt(moments[uniforms.size + index]) / uniforms.biasCorrection2Sqrt + uniforms.eps) * uniforms.stepSize',
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
 * The optimizer's updates in fewer dispatches than plain ops take: AdamW in two (both moments,
 * then the parameter from them; about thirteen as ops), an EMA update in one (three), the
 * squared norm of all gradients in one per seven gradients (two per gradient, then a stack and a
 * sum; see `squaredSumOfAll`). `AdamW`, `EMA` and the gradient norm call them
 * while `setWebGpuKernels({ optimizer })` is on. Safe to call again.
 */
export function registerOptimizerKernelsOnWebGpu(): void {
  registerOwnKernels('webgpu', {
    [ADAMW_KERNEL]: ({ inputs, backend, attrs }) => {
      const gpu = backend as WebGpuBackend;
      const { param, grad, moments, gradScale } = inputs as Record<string, tf.TensorInfo | undefined>;
      const a = attrs as unknown as AdamWKernelAttrs;
      const scale = gradScale ? [gradScale] : [];
      const next = gpu.runWebGPUProgram(
        momentsProgram(param!.shape, scale.length > 0),
        [moments!, grad!, ...scale],
        'float32',
        floatUniforms(a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2),
      );
      const p = gpu.runWebGPUProgram(
        adamWParameterProgram(param!.shape),
        [param!, next],
        'float32',
        floatUniforms(a.decayFactor, a.stepSize, a.biasCorrection2Sqrt, a.eps),
      );
      return [p, next];
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
