import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../nn/module.js';
import type { Rng } from '../random/rng.js';
import { assertLastDim, assertPositiveInteger } from './check-shape.js';
import { biasBound, kaimingUniformBound, resolveRng, uniformInit } from './init.js';
import { linearResidualAvailable, linearWithResidual } from './linear-residual.js';

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
      const flat = tf.reshape(x, [-1, this.inFeatures]); // [N, in]
      if (residual !== undefined && this.bias !== undefined && fusesResidual(flat, residual)) {
        const rows = tf.reshape(residual, [-1, this.outFeatures]);
        return tf.reshape(linearWithResidual(flat, this.weight, this.bias, rows), outShape);
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

function fusesResidual(x: tf.Tensor, residual: tf.Tensor): boolean {
  return x.dtype === 'float32' && residual.dtype === 'float32' && linearResidualAvailable();
}
