import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../nn/module.js';
import type { Rng } from '../random/rng.js';
import { assertLastDim, assertPositiveInteger } from './check-shape.js';
import { biasBound, kaimingUniformBound, resolveRng, uniformInit } from './init.js';
import { linearKernelAvailable, linearThroughKernel } from './linear-kernel.js';

export interface LinearApplyOptions {
  /**
   * A tensor of the output's shape added to it (a transformer's residual stream): on webgpu inside
   * the product's kernel, elsewhere by an add after it.
   */
  residual?: tf.Tensor;
}

export interface LinearOptions {
  /** Default true. */
  bias?: boolean;
  /** Default: the global generator. */
  rng?: Rng;
}

/** `torch.nn.Linear`; the weight is stored [in, out] (layout 'linear'). */
export class Linear extends Module {
  readonly weight: tf.Variable; // [in, out]
  readonly bias: tf.Variable | undefined; // [out]

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    assertPositiveInteger('Linear', 'inFeatures', inFeatures);
    assertPositiveInteger('Linear', 'outFeatures', outFeatures);
    const rng = resolveRng(options.rng);
    this.weight = tf.tidy(() =>
      this.addParameter(
        'weight',
        uniformInit(rng, [outFeatures, inFeatures], kaimingUniformBound(inFeatures), [1, 0]),
        'linear',
      ),
    );
    this.bias =
      options.bias === false
        ? undefined
        : tf.tidy(() => this.addParameter('bias', uniformInit(rng, [outFeatures], biasBound(inFeatures))));
  }

  /** [..., in] -> [..., out], plus `residual` when given. */
  apply(x: tf.Tensor, { residual }: LinearApplyOptions = {}): tf.Tensor {
    assertLastDim('Linear', x, this.inFeatures);
    const outShape = [...x.shape.slice(0, -1), this.outFeatures];
    if (residual !== undefined && !tf.util.arraysEqual(residual.shape, outShape)) {
      throw new Error(
        `Linear: expected residual of the output's shape [${outShape.join(', ')}], got [${residual.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => {
      // Reshapes only where the rank is not 2: each is a kernel, with its gradient another.
      const flat = x.rank === 2 ? x : tf.reshape(x, [-1, this.inFeatures]); // [N, in]
      if (throughKernel(flat, residual)) {
        const rows =
          residual && residual.rank !== 2 ? tf.reshape(residual, [-1, this.outFeatures]) : residual;
        const y = linearThroughKernel(flat, this.weight, this.bias, rows);
        return x.rank === 2 ? y : tf.reshape(y, outShape);
      }
      // [N, out]; with the bias added in one kernel (the backends' _FusedMatMul), not a matMul and an add.
      const y =
        this.bias === undefined
          ? tf.matMul(flat, this.weight)
          : tf.fused.matMul({ a: flat, b: this.weight, bias: this.bias });
      const out = tf.reshape(y, outShape);
      return residual === undefined ? out : tf.add(out, residual);
    });
  }
}

/** Whether the layer runs as one kernel of ours (webgpu): float32 operands, the kernel there. */
function throughKernel(x: tf.Tensor, residual: tf.Tensor | undefined): boolean {
  return x.dtype === 'float32' && (residual?.dtype ?? 'float32') === 'float32' && linearKernelAvailable();
}
