import * as tf from '@tensorflow/tfjs-core';
import { LINEAR_KERNEL } from '../backend/linear-kernel-contract.js';
import { ownKernelEnabled } from '../backend/webgpu-kernels/webgpu-kernels-switch.js';

/** Whether the active backend runs a linear layer as one kernel of ours (webgpu, `matMul` on). */
export function linearKernelAvailable(): boolean {
  return ownKernelEnabled(LINEAR_KERNEL, 'matMul');
}

/**
 * x weight (+ bias) (+ residual) for x [rows, in], weight [in, out], residual [rows, out] through
 * LINEAR_KERNEL, with the gradients written out: dx = dy weightᵀ, dWeight = xᵀ dy, dBias = the
 * column sums of dy, dResidual = dy. See `linearKernelAvailable`.
 */
export function linearThroughKernel(
  x: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor | undefined,
  residual: tf.Tensor | undefined,
): tf.Tensor {
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [a, b] = args as tf.Tensor[];
    save([a!, b!]);
    const inputs: tf.NamedTensorMap = { a: a!, b: b! };
    if (bias) inputs.bias = args[2] as tf.Tensor;
    if (residual) inputs.residual = args[bias ? 3 : 2] as tf.Tensor;
    return {
      value: tf.engine().runKernel(LINEAR_KERNEL, inputs) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, [savedX, savedWeight]: tf.Tensor[]) => [
        tf.matMul(dy, savedWeight!, false, true),
        tf.matMul(savedX!, dy, true, false),
        ...(bias ? [tf.sum(dy, 0)] : []),
        ...(residual ? [tf.clone(dy)] : []),
      ],
    };
  });
  return run(x, weight, ...(bias ? [bias] : []), ...(residual ? [residual] : []));
}
