import * as tf from '@tensorflow/tfjs-core';
import { LINEAR_RESIDUAL_KERNEL } from '../backend/residual-kernels-contract.js';
import { ownKernelEnabled } from '../backend/webgpu-kernels/webgpu-kernels-switch.js';

/** Whether the active backend adds a linear layer's residual in its kernel (webgpu, `matMul` on). */
export function linearResidualAvailable(): boolean {
  return ownKernelEnabled(LINEAR_RESIDUAL_KERNEL, 'matMul');
}

/**
 * x weight + bias + residual for x [rows, in], weight [in, out], residual [rows, out] in one
 * kernel, with the gradients of the product and the bias, and the residual's (dy itself); see
 * `linearResidualAvailable`.
 */
export function linearWithResidual(
  x: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor,
  residual: tf.Tensor,
): tf.Tensor {
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [a, b, c, r] = args as tf.Tensor[];
    save([a!, b!]);
    return {
      value: tf
        .engine()
        .runKernel(LINEAR_RESIDUAL_KERNEL, { a: a!, b: b!, bias: c!, residual: r! }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, [savedX, savedWeight]: tf.Tensor[]) => [
        tf.matMul(dy, savedWeight!, false, true),
        tf.matMul(savedX!, dy, true, false),
        tf.sum(dy, 0),
        tf.clone(dy),
      ],
    };
  });
  return run(x, weight, bias, residual);
}
