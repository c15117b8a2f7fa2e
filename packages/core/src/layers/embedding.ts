import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../nn/module.js';
import type { Rng } from '../random/rng.js';
import { assertPositiveInteger } from './check-shape.js';
import { normalInit, resolveRng } from './init.js';

export interface EmbeddingOptions {
  /** Default: the global generator. */
  rng?: Rng;
}

/** `torch.nn.Embedding`, initialised N(0, 1). */
export class Embedding extends Module {
  readonly weight: tf.Variable; // [num, dim]

  constructor(
    readonly numEmbeddings: number,
    readonly dim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    assertPositiveInteger('Embedding', 'numEmbeddings', numEmbeddings);
    assertPositiveInteger('Embedding', 'dim', dim);
    const rng = resolveRng(options.rng);
    this.weight = tf.tidy(() => this.addParameter('weight', normalInit(rng, [numEmbeddings, dim])));
  }

  /** int32 ids [...shape] -> [...shape, dim] */
  apply(ids: tf.Tensor): tf.Tensor {
    if (ids.dtype !== 'int32') throw new Error(`Embedding: expected int32 ids, got ${ids.dtype}`);
    return tf.gather(this.weight, ids);
  }
}
