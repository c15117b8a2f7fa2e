import {
  type ActivationName,
  activationNames,
  defaultGenerator,
  LayerNorm,
  Linear,
  MLP,
  Module,
  ModuleList,
  MultiheadAttention,
  type Rng,
  sinusoidalEmbedding,
} from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The DALL-E 2 prior's causal transformer. It reads the sequence
 * `[text encodings (numTextTokens), text embedding, time embedding, noised image embedding, query]`
 * and predicts, at the query token, the denoised image embedding (or the noise).
 */
export interface DiffusionPriorNetworkConfig {
  /** CLIP embedding size, which is also the transformer width. Default 512. */
  dim: number;
  /** Transformer blocks. Default 12. */
  depth: number;
  /** Attention heads; must divide `dim`. Default 8. */
  heads: number;
  /** Longest text encoding sequence the network reads (CLIP's context length); 0 = none. Default 77. */
  numTextTokens: number;
  /** Width of the text encodings (CLIP's text transformer width); projected to `dim`. Default 512. */
  textEncodingDim: number;
  /** MLP hidden size = `mlpRatio * dim`. Default 4. */
  mlpRatio: number;
  /** MLP activation. Default 'gelu'. */
  activation: ActivationName;
}

export const defaultDiffusionPriorNetworkConfig: Readonly<DiffusionPriorNetworkConfig> = Object.freeze({
  dim: 512,
  depth: 12,
  heads: 8,
  numTextTokens: 77,
  textEncodingDim: 512,
  mlpRatio: 4,
  activation: 'gelu',
});

/** Fills in the defaults and checks every field once; errors name the field and the valid values. */
export function resolveDiffusionPriorNetworkConfig(
  config: Partial<DiffusionPriorNetworkConfig> = {},
): DiffusionPriorNetworkConfig {
  const known = Object.keys(defaultDiffusionPriorNetworkConfig);
  for (const key of Object.keys(config)) {
    if (!known.includes(key)) {
      throw new Error(`DiffusionPriorNetwork: unknown config field "${key}"; valid: ${known.join(', ')}`);
    }
  }
  const resolved = { ...defaultDiffusionPriorNetworkConfig, ...config };
  for (const key of ['dim', 'depth', 'heads', 'textEncodingDim', 'mlpRatio'] as const) {
    const value = resolved[key];
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`DiffusionPriorNetwork: ${key} must be a positive integer, got ${value}`);
    }
  }
  if (!Number.isInteger(resolved.numTextTokens) || resolved.numTextTokens < 0) {
    throw new Error(
      `DiffusionPriorNetwork: numTextTokens must be a non-negative integer, got ${resolved.numTextTokens}`,
    );
  }
  if (resolved.dim % resolved.heads !== 0) {
    throw new Error(`DiffusionPriorNetwork: heads (${resolved.heads}) must divide dim (${resolved.dim})`);
  }
  if (!activationNames.includes(resolved.activation)) {
    throw new Error(
      `DiffusionPriorNetwork: unknown activation "${resolved.activation}"; valid: ${activationNames.join(', ')}`,
    );
  }
  return resolved;
}

export interface DiffusionPriorNetworkInputs {
  /** Noised image embedding at step `timesteps`, [B, dim]. */
  imageEmbed: tf.Tensor;
  /** Diffusion step per row, [B] (int32 or float32). */
  timesteps: tf.Tensor;
  /** CLIP text embedding, [B, dim]. */
  textEmbed: tf.Tensor;
  /** CLIP text encodings (per-token hidden states), [B, L, textEncodingDim] with L <= numTextTokens. */
  textEncodings?: tf.Tensor;
  /** [B, L], 1 = real token, 0 = padding. Default: all ones. */
  textMask?: tf.Tensor;
  /** [B], 1 = keep the text conditioning, 0 = replace it by the learned null tokens. Default: all ones. */
  textKeep?: tf.Tensor;
}

/** Pre-LN transformer block, named like Hugging Face CLIP's encoder layer. */
class PriorTransformerBlock extends Module {
  readonly layer_norm1: LayerNorm;
  readonly self_attn: MultiheadAttention;
  readonly layer_norm2: LayerNorm;
  readonly mlp: MLP;

  constructor(config: DiffusionPriorNetworkConfig, rng: Rng | undefined) {
    super();
    const { dim, heads, mlpRatio, activation } = config;
    this.layer_norm1 = this.addModule('layer_norm1', new LayerNorm(dim));
    this.self_attn = this.addModule('self_attn', new MultiheadAttention(dim, heads, { rng }));
    this.layer_norm2 = this.addModule('layer_norm2', new LayerNorm(dim));
    this.mlp = this.addModule('mlp', new MLP(dim, mlpRatio * dim, { activation, rng }));
  }

  /** [B, S, dim] -> [B, S, dim] */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      // Both residuals are added by the projections' kernels, on webgpu.
      const h = this.self_attn.apply(this.layer_norm1.apply(x), { causal: true, residual: x });
      return this.mlp.apply(this.layer_norm2.apply(h), { residual: h });
    });
  }
}

export class DiffusionPriorNetwork extends Module {
  readonly config: Readonly<DiffusionPriorNetworkConfig>;
  /** Tokens per sequence: numTextTokens + 4 (text embedding, time, image embedding, query). */
  readonly sequenceLength: number;

  readonly text_encodings_proj: Linear | undefined;
  readonly null_text_encodings: tf.Variable | undefined; // [numTextTokens, dim]
  readonly null_text_embed: tf.Variable; // [dim]
  readonly time_mlp: MLP;
  readonly learned_query: tf.Variable; // [dim]
  readonly positional_embedding: tf.Variable; // [S, dim]
  readonly layers: ModuleList<PriorTransformerBlock>;
  readonly final_layer_norm: LayerNorm;
  readonly proj_out: Linear;

  constructor(config: Partial<DiffusionPriorNetworkConfig> = {}, options: { rng?: Rng } = {}) {
    super();
    const c = resolveDiffusionPriorNetworkConfig(config);
    this.config = Object.freeze(c);
    const { rng } = options;
    const normal = (shape: number[], std: number) =>
      tf.tidy(() => tf.mul(tf.tensor(drawNormal(rng, sizeOf(shape)), shape), std));
    this.sequenceLength = c.numTextTokens + 4;

    if (c.numTextTokens > 0) {
      this.text_encodings_proj = this.addModule(
        'text_encodings_proj',
        new Linear(c.textEncodingDim, c.dim, { rng }),
      );
      this.null_text_encodings = this.addParameter(
        'null_text_encodings',
        normal([c.numTextTokens, c.dim], 1),
      );
    }
    // The embeddings enter scaled to unit variance per component, so the learned tokens start there too.
    this.null_text_embed = this.addParameter('null_text_embed', normal([c.dim], 1));
    this.time_mlp = this.addModule(
      'time_mlp',
      new MLP(c.dim, c.mlpRatio * c.dim, { activation: 'silu', rng }),
    );
    this.learned_query = this.addParameter('learned_query', normal([c.dim], 1));
    this.positional_embedding = this.addParameter(
      'positional_embedding',
      normal([this.sequenceLength, c.dim], 0.02),
    );
    this.layers = this.addModule(
      'layers',
      new ModuleList(Array.from({ length: c.depth }, () => new PriorTransformerBlock(c, rng))),
    );
    this.final_layer_norm = this.addModule('final_layer_norm', new LayerNorm(c.dim));
    this.proj_out = this.addModule('proj_out', new Linear(c.dim, c.dim, { rng }));
  }

  /** The prediction at the query token: [B, dim]. */
  apply(inputs: DiffusionPriorNetworkInputs): tf.Tensor {
    return tf.tidy(() => {
      const all = this.applyAllPositions(inputs); // [B, S, dim]
      const [b, s, d] = all.shape as [number, number, number];
      return tf.reshape(tf.slice(all, [0, s - 1, 0], [b, 1, d]), [b, d]);
    });
  }

  /**
   * The output head applied at every position, [B, S, dim]; only the last one is the prediction.
   * Exposed so that tests can check that position i never sees tokens after i.
   */
  applyAllPositions(inputs: DiffusionPriorNetworkInputs): tf.Tensor {
    const b = this.checkInputs(inputs);
    const { dim, numTextTokens } = this.config;
    return tf.tidy(() => {
      const keep = inputs.textKeep === undefined ? tf.ones([b]) : tf.cast(inputs.textKeep, 'float32'); // [B]
      const keepColumn = tf.reshape(keep, [b, 1]); // [B, 1]

      const textEmbed = blend(inputs.textEmbed, tf.reshape(this.null_text_embed, [1, dim]), keepColumn); // [B, dim]
      const time = this.time_mlp.apply(
        sinusoidalEmbedding(tf.cast(inputs.timesteps, 'float32') as tf.Tensor1D, dim),
      ); // [B, dim]
      const query = tf.tile(tf.reshape(this.learned_query, [1, dim]), [b, 1]); // [B, dim]
      const singles = tf.stack([textEmbed, time, inputs.imageEmbed, query], 1); // [B, 4, dim]

      let tokens = singles;
      if (numTextTokens > 0) {
        const encodings = this.textTokens(inputs, b, keepColumn); // [B, numTextTokens, dim]
        tokens = tf.concat([encodings, singles], 1); // [B, S, dim]
      }
      let x = tf.add(tokens, this.positional_embedding); // [B, S, dim]
      for (const block of this.layers.items) x = block.apply(x);
      return this.proj_out.apply(this.final_layer_norm.apply(x)); // [B, S, dim]
    });
  }

  /**
   * Projected text encodings padded to numTextTokens, [B, numTextTokens, dim]. Padding, and every
   * token of a row whose conditioning is dropped, becomes the learned null encoding at that
   * position, so the sequence length and the attention pattern never change.
   */
  private textTokens(inputs: DiffusionPriorNetworkInputs, b: number, keepColumn: tf.Tensor): tf.Tensor {
    const { numTextTokens, dim } = this.config;
    const nullTokens = tf.reshape(this.null_text_encodings!, [1, numTextTokens, dim]);
    if (inputs.textEncodings === undefined) return tf.tile(nullTokens, [b, 1, 1]);
    const length = inputs.textEncodings.shape[1] as number;
    const projected = this.text_encodings_proj!.apply(inputs.textEncodings); // [B, L, dim]
    const mask = inputs.textMask === undefined ? tf.ones([b, length]) : tf.cast(inputs.textMask, 'float32'); // [B, L]
    const pad = numTextTokens - length;
    const padded = tf.pad(projected, [
      [0, 0],
      [0, pad],
      [0, 0],
    ]); // [B, numTextTokens, dim]
    const use = tf.mul(
      tf.pad(mask, [
        [0, 0],
        [0, pad],
      ]),
      keepColumn,
    ); // [B, numTextTokens]
    return blend(padded, nullTokens, tf.expandDims(use, 2));
  }

  /** Returns the batch size; throws an Error naming the input, the expected and the actual shape. */
  private checkInputs(inputs: DiffusionPriorNetworkInputs): number {
    const { dim, numTextTokens, textEncodingDim } = this.config;
    const { imageEmbed, textEmbed, timesteps, textEncodings, textMask, textKeep } = inputs;
    const shape = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;
    if (textEmbed.rank !== 2 || textEmbed.shape[1] !== dim) {
      throw new Error(
        `DiffusionPriorNetwork: expected textEmbed of shape [B, ${dim}], got ${shape(textEmbed)}`,
      );
    }
    const b = textEmbed.shape[0] as number;
    if (imageEmbed.rank !== 2 || imageEmbed.shape[0] !== b || imageEmbed.shape[1] !== dim) {
      throw new Error(
        `DiffusionPriorNetwork: expected imageEmbed of shape [${b}, ${dim}], got ${shape(imageEmbed)}`,
      );
    }
    if (timesteps.rank !== 1 || timesteps.shape[0] !== b) {
      throw new Error(`DiffusionPriorNetwork: expected timesteps of shape [${b}], got ${shape(timesteps)}`);
    }
    if (textKeep !== undefined && (textKeep.rank !== 1 || textKeep.shape[0] !== b)) {
      throw new Error(`DiffusionPriorNetwork: expected textKeep of shape [${b}], got ${shape(textKeep)}`);
    }
    if (textEncodings === undefined) {
      if (textMask !== undefined)
        throw new Error('DiffusionPriorNetwork: textMask given without textEncodings');
      return b;
    }
    if (numTextTokens === 0) {
      throw new Error('DiffusionPriorNetwork: textEncodings given, but this network has numTextTokens = 0');
    }
    const length = textEncodings.shape[1] as number;
    if (
      textEncodings.rank !== 3 ||
      textEncodings.shape[0] !== b ||
      textEncodings.shape[2] !== textEncodingDim ||
      length > numTextTokens
    ) {
      throw new Error(
        `DiffusionPriorNetwork: expected textEncodings of shape [${b}, L <= ${numTextTokens}, ${textEncodingDim}], got ${shape(textEncodings)}`,
      );
    }
    if (
      textMask !== undefined &&
      (textMask.rank !== 2 || textMask.shape[0] !== b || textMask.shape[1] !== length)
    ) {
      throw new Error(
        `DiffusionPriorNetwork: expected textMask of shape [${b}, ${length}], got ${shape(textMask)}`,
      );
    }
    return b;
  }
}

/** `keep * value + (1 - keep) * fallback`, differentiable in all three. */
function blend(value: tf.Tensor, fallback: tf.Tensor, keep: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(value, keep), tf.mul(fallback, tf.sub(1, keep)));
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function drawNormal(rng: Rng | undefined, n: number): Float32Array {
  return (rng ?? defaultGenerator()).normal(n);
}
