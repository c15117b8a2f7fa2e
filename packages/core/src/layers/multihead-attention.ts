import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../nn/module.js';
import type { Rng } from '../random/rng.js';
import { assertLastDim, assertPositiveInteger, assertRank } from './check-shape.js';
import { fusedAttention, fusedAttentionAvailable } from './fused-attention.js';
import { headsMatMul, headsMatMulAvailable } from './heads-matmul.js';
import { Linear } from './linear.js';
import { scaledSoftmax } from './scaled-softmax.js';

export interface MultiheadAttentionOptions {
  /** Biases on the four projections; default true. */
  bias?: boolean;
  /** Feature size of the cross-attention context; default `dim`. */
  kvDim?: number;
  /** Default: the global generator. */
  rng?: Rng;
}

export interface AttentionInputs {
  /** [B, S, kvDim] for cross-attention; default: self-attention on `x`. */
  context?: tf.Tensor;
  /** Query i sees keys j <= i (top-left aligned when T != S, like PyTorch's `is_causal`). */
  causal?: boolean;
  /** [B, S], 1 = keep, 0 = padded key. */
  keyPaddingMask?: tf.Tensor;
  /**
   * [B, T, dim], added to the output (a transformer's residual stream): on webgpu inside the
   * output projection's kernel.
   */
  residual?: tf.Tensor;
}

/**
 * Finite rather than -Infinity so that a fully masked row stays finite: the softmax then spreads
 * evenly over the masked keys instead of producing NaN.
 */
const MASKED = -1e9;

/** Multi-head attention with Hugging Face CLIP's projection names (`q_proj`, `k_proj`, `v_proj`, `out_proj`). */
export class MultiheadAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly out_proj: Linear;
  readonly headDim: number;
  readonly kvDim: number;

  constructor(
    readonly dim: number,
    readonly numHeads: number,
    options: MultiheadAttentionOptions = {},
  ) {
    super();
    assertPositiveInteger('MultiheadAttention', 'dim', dim);
    assertPositiveInteger('MultiheadAttention', 'numHeads', numHeads);
    if (dim % numHeads !== 0) {
      throw new Error(`MultiheadAttention: dim ${dim} is not divisible by numHeads ${numHeads}`);
    }
    this.headDim = dim / numHeads;
    this.kvDim = options.kvDim ?? dim;
    const linear = { bias: options.bias ?? true, rng: options.rng };
    this.q_proj = this.addModule('q_proj', new Linear(dim, dim, linear));
    this.k_proj = this.addModule('k_proj', new Linear(this.kvDim, dim, linear));
    this.v_proj = this.addModule('v_proj', new Linear(this.kvDim, dim, linear));
    this.out_proj = this.addModule('out_proj', new Linear(dim, dim, linear));
  }

  /** x [B, T, dim] -> [B, T, dim] (plus `inputs.residual`) */
  apply(x: tf.Tensor, inputs: AttentionInputs = {}): tf.Tensor {
    const { context, causal = false, keyPaddingMask, residual } = inputs;
    assertRank('MultiheadAttention', x, 3, `[B, T, ${this.dim}]`);
    assertLastDim('MultiheadAttention', x, this.dim);
    const [b, t] = x.shape as [number, number, number];
    const kv = context ?? x;
    if (context !== undefined) {
      assertRank('MultiheadAttention context', context, 3, `[${b}, S, ${this.kvDim}]`);
      assertLastDim('MultiheadAttention context', context, this.kvDim);
      if (context.shape[0] !== b) {
        throw new Error(
          `MultiheadAttention: context batch ${context.shape[0]} does not match input batch ${b}, context shape [${context.shape.join(', ')}]`,
        );
      }
    }
    const s = kv.shape[1] as number;
    if (keyPaddingMask !== undefined) {
      const m = keyPaddingMask.shape;
      if (m.length !== 2 || m[0] !== b || m[1] !== s) {
        throw new Error(
          `MultiheadAttention: expected keyPaddingMask of shape [${b}, ${s}], got [${m.join(', ')}]`,
        );
      }
    }
    const h = this.numHeads;
    const d = this.headDim;
    return tf.tidy(() => {
      const scale = 1 / Math.sqrt(d);
      const split = (y: tf.Tensor, len: number) => tf.reshape(y, [b, len, h, d]); // [B, len, H, d]
      const qs = split(this.q_proj.apply(x), t);
      const ks = split(this.k_proj.apply(kv), s);
      const vs = split(this.v_proj.apply(kv), s);
      const fused = !causal && keyPaddingMask === undefined && fusedAttentionAvailable(d);
      const weights = (scores: tf.Tensor) => attentionWeights(scores, scale, causal, keyPaddingMask);
      if (!fused && headsMatMulAvailable(b, h)) {
        // The products read and write [B, len, H, d]: no transposes to and from [B, H, len, d].
        const scores = headsMatMul(qs, ks, { transposeB: true, layoutA: 'heads', layoutB: 'heads' }); // [B, H, T, S]
        const out = headsMatMul(weights(scores), vs, { layoutB: 'heads', layoutOut: 'heads' }); // [B, T, H, d]
        return this.out_proj.apply(tf.reshape(out, [b, t, this.dim]), { residual });
      }
      const heads = (y: tf.Tensor) => tf.transpose(y, [0, 2, 1, 3]); // [B, H, len, d]
      const [q, k, v] = [heads(qs), heads(ks), heads(vs)];
      let attended: tf.Tensor; // [B, H, T, d]
      if (fused) {
        const rows = (y: tf.Tensor, len: number) => tf.reshape(y, [b * h, len, d]);
        attended = tf.reshape(fusedAttention(rows(q, t), rows(k, s), rows(v, s), scale), [b, h, t, d]);
      } else {
        attended = tf.matMul(weights(tf.matMul(q, k, false, true)), v); // scores [B, H, T, S]
      }
      const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [b, t, this.dim]); // [B, T, dim]
      return this.out_proj.apply(merged, { residual });
    });
  }
}

/** softmax(scores scale + the masks' biases) over the keys, for scores [B, H, T, S]. */
function attentionWeights(
  scores: tf.Tensor,
  scale: number,
  causal: boolean,
  keyPaddingMask: tf.Tensor | undefined,
): tf.Tensor {
  if (!causal && keyPaddingMask === undefined) return scaledSoftmax(scores, scale);
  const [b, , t, s] = scores.shape as [number, number, number, number];
  let biased = tf.mul(scores, scale);
  if (causal) biased = tf.add(biased, causalBias(t, s)); // + [T, S]
  if (keyPaddingMask !== undefined) {
    const keep = tf.cast(keyPaddingMask, 'float32');
    biased = tf.add(biased, tf.reshape(tf.mul(tf.sub(1, keep), MASKED), [b, 1, 1, s]));
  }
  return tf.softmax(biased, -1);
}

function causalBias(t: number, s: number): tf.Tensor {
  const values = new Float32Array(t * s);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < s; j++) values[i * s + j] = MASKED;
  return tf.tensor(values, [t, s]);
}
