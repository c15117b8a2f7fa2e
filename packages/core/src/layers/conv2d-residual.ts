import * as tf from '@tensorflow/tfjs-core';
import { CONV2D_RESIDUAL_KERNEL } from '../backend/residual-kernels-contract.js';
import { ownKernelEnabled } from '../backend/webgpu-kernels/webgpu-kernels-switch.js';

/** Whether the active backend adds a conv's residual in the conv's kernel (webgpu, `conv2d` on). */
export function conv2dResidualAvailable(): boolean {
  return ownKernelEnabled(CONV2D_RESIDUAL_KERNEL, 'conv2d');
}

/**
 * conv2d(x, filter) + bias + residual (NHWC) in one kernel, with the gradients of the conv and
 * its bias, and the residual's (dy itself); see `conv2dResidualAvailable`.
 */
export function conv2dWithResidual(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor,
  residual: tf.Tensor,
  strides: number,
  pad: 'same' | 'valid',
): tf.Tensor {
  const attrs = { strides, pad, dataFormat: 'NHWC', dilations: 1 } as const;
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [input, weight, b, r] = args as tf.Tensor[];
    save([input!, weight!]);
    const inputs = { x: input!, filter: weight!, bias: b!, residual: r! };
    return {
      value: tf.engine().runKernel(CONV2D_RESIDUAL_KERNEL, inputs, attrs) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, [savedX, savedFilter]: tf.Tensor[]) =>
        [
          tf
            .engine()
            .runKernel(
              tf.Conv2DBackpropInput,
              { dy, filter: savedFilter! },
              { ...attrs, inputShape: savedX!.shape },
            ),
          tf
            .engine()
            .runKernel(
              tf.Conv2DBackpropFilter,
              { x: savedX!, dy },
              { ...attrs, filterShape: savedFilter!.shape },
            ),
          tf.sum(dy, [0, 1, 2]),
          tf.clone(dy),
        ] as tf.Tensor[],
    };
  });
  return run(x, filter, bias, residual);
}
