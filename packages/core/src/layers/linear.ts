import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../nn/module.js';
import type { Rng } from '../random/rng.js';
import { assertLastDim, assertPositiveInteger } from './check-shape.js';
import { biasBound, kaimingUniformBound, resolveRng, uniformInit } from './init.js';

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

  /** [..., in] -> [..., out] */
  apply(x: tf.Tensor): tf.Tensor {
    assertLastDim('Linear', x, this.inFeatures);
    return tf.tidy(() => {
      const flat = tf.reshape(x, [-1, this.inFeatures]); // [N, in]
      // [N, out]; with the bias added in one kernel (the backends' _FusedMatMul), not a matMul and an add.
      const y =
        this.bias === undefined
          ? tf.matMul(flat, this.weight)
          : tf.fused.matMul({ a: flat, b: this.weight, bias: this.bias });
      return tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }
}
