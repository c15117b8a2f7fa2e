import * as tf from '@tensorflow/tfjs-core';
import { ADAMW_KERNEL, type AdamWKernelAttrs } from '../backend/optimizer-kernels-contract.js';
import { ownKernelEnabled } from '../backend/webgpu-kernels/webgpu-kernels-switch.js';
import type { AdamWMoments } from './adamw-moments.js';

/**
 * One AdamW update of `param` and its moments from `grad`, times `gradScale` when given: our kernel
 * where the backend has it (webgpu, two dispatches), else plain ops (about thirteen kernels), the
 * same computation.
 */
export function applyAdamW(
  param: tf.Variable,
  grad: tf.Tensor,
  moments: AdamWMoments,
  { gradScale, ...attrs }: AdamWKernelAttrs & { gradScale?: tf.Scalar | undefined },
): void {
  const { beta1, beta2, eps, stepSize, biasCorrection2Sqrt, decayFactor } = attrs;
  const scale: tf.NamedTensorMap = gradScale ? { gradScale } : {};
  const float32 = [param, grad, ...Object.values(scale)].every((t) => t.dtype === 'float32');
  if (float32 && ownKernelEnabled(ADAMW_KERNEL, 'optimizer')) {
    const packed = moments.asPacked();
    tf.tidy(() => {
      const inputs = { param, grad, moments: packed, ...scale };
      const [p, m] = tf
        .engine()
        .runKernel(ADAMW_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      packed.assign(m!);
      param.assign(p!);
    });
    return;
  }
  const [expAvg, expAvgSq] = moments.asSeparate();
  tf.tidy(() => {
    const decayed = decayFactor === 1 ? param : tf.mul(param, decayFactor);
    const g = gradScale ? tf.mul(grad, gradScale) : grad;
    const m = tf.add(tf.mul(expAvg, beta1), tf.mul(g, 1 - beta1));
    const v = tf.add(tf.mul(expAvgSq, beta2), tf.mul(tf.square(g), 1 - beta2));
    const denom = tf.add(tf.div(tf.sqrt(v), biasCorrection2Sqrt), eps);
    expAvg.assign(m);
    expAvgSq.assign(v);
    param.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
  });
}
