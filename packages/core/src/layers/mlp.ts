import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../nn/module.js';
import type { Rng } from '../random/rng.js';
import { type ActivationName, activation } from './activations.js';
import { Linear, type LinearApplyOptions } from './linear.js';

export interface MLPOptions {
  /** Default 'gelu' (exact). */
  activation?: ActivationName;
  /** Default: `dim`. */
  outDim?: number;
  /** Default: the global generator. */
  rng?: Rng;
}

/** `fc2(act(fc1(x)))`, named like Hugging Face CLIP's `CLIPMLP`. */
export class MLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  private readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(dim: number, hiddenDim: number, options: MLPOptions = {}) {
    super();
    this.act = activation(options.activation ?? 'gelu');
    this.fc1 = this.addModule('fc1', new Linear(dim, hiddenDim, { rng: options.rng }));
    this.fc2 = this.addModule('fc2', new Linear(hiddenDim, options.outDim ?? dim, { rng: options.rng }));
  }

  /** [..., dim] -> [..., outDim], plus `residual` (see `LinearApplyOptions`) when given. */
  apply(x: tf.Tensor, options: LinearApplyOptions = {}): tf.Tensor {
    return tf.tidy(() => this.fc2.apply(this.act(this.fc1.apply(x)), options));
  }
}
