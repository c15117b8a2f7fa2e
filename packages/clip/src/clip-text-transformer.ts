import { Embedding, LayerNorm, Module, type Rng } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { activationOf, type CLIPTextConfig, poolsAtLargestId } from './clip-config.js';
import { CLIPEncoder } from './clip-encoder.js';

export interface CLIPTextOutput {
  /** [B, T, D] after the final layer norm. */
  lastHiddenState: tf.Tensor3D;
  /** [B, D]: the last hidden state at each row's end token. */
  pooledOutput: tf.Tensor2D;
}

/** Token plus learned position embeddings. */
export class CLIPTextEmbeddings extends Module {
  readonly token_embedding: Embedding;
  readonly position_embedding: Embedding;

  constructor(config: CLIPTextConfig, rng: Rng) {
    super();
    this.token_embedding = this.addModule(
      'token_embedding',
      new Embedding(config.vocab_size, config.hidden_size, { rng }),
    );
    this.position_embedding = this.addModule(
      'position_embedding',
      new Embedding(config.max_position_embeddings, config.hidden_size, { rng }),
    );
  }

  /** int32 ids [B, T] -> [B, T, D] */
  apply(ids: tf.Tensor): tf.Tensor {
    const t = ids.shape[1] as number;
    return tf.tidy(() => {
      const positions = tf.slice(this.position_embedding.weight, [0, 0], [t, -1]); // [T, D]
      return tf.add(this.token_embedding.apply(ids), positions); // [B, T, D]
    });
  }
}

/** CLIP's text tower: a causal pre-LN transformer pooled at the end token (Hugging Face `text_model`). */
export class CLIPTextTransformer extends Module {
  readonly embeddings: CLIPTextEmbeddings;
  readonly encoder: CLIPEncoder;
  readonly final_layer_norm: LayerNorm;

  constructor(
    readonly config: CLIPTextConfig,
    rng: Rng,
  ) {
    super();
    this.embeddings = this.addModule('embeddings', new CLIPTextEmbeddings(config, rng));
    this.encoder = this.addModule(
      'encoder',
      new CLIPEncoder({
        hiddenSize: config.hidden_size,
        intermediateSize: config.intermediate_size,
        numLayers: config.num_hidden_layers,
        numHeads: config.num_attention_heads,
        activation: activationOf(config.hidden_act),
        layerNormEps: config.layer_norm_eps,
        rng,
      }),
    );
    this.final_layer_norm = this.addModule(
      'final_layer_norm',
      new LayerNorm(config.hidden_size, { eps: config.layer_norm_eps }),
    );
  }

  /**
   * ids: int32 [B, T] with T <= max_position_embeddings; attentionMask: [B, T], 1 = token, 0 = padding.
   * Without a mask, padding is still invisible to the tokens before it, since attention is causal.
   */
  apply(ids: tf.Tensor, attentionMask?: tf.Tensor): CLIPTextOutput {
    const { max_position_embeddings: context } = this.config;
    if (ids.rank !== 2 || ids.dtype !== 'int32') {
      throw new Error(
        `CLIP text: expected int32 ids of shape [B, T], got ${ids.dtype} [${ids.shape.join(', ')}]`,
      );
    }
    const [b, t] = ids.shape as [number, number];
    if (t < 1 || t > context) {
      throw new Error(
        `CLIP text: expected ids of shape [B, T] with 1 <= T <= ${context}, got [${ids.shape.join(', ')}]`,
      );
    }
    if (
      attentionMask !== undefined &&
      (attentionMask.rank !== 2 || attentionMask.shape[0] !== b || attentionMask.shape[1] !== t)
    ) {
      throw new Error(
        `CLIP text: expected attentionMask of shape [${b}, ${t}], got [${attentionMask.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => {
      const x = this.embeddings.apply(ids); // [B, T, D]
      const h = this.encoder.apply(x, { causal: true, attentionMask });
      const lastHiddenState = this.final_layer_norm.apply(h) as tf.Tensor3D; // [B, T, D]
      const end = this.endPositions(ids); // [B]
      const rows = tf.add(tf.mul(tf.range(0, b, 1, 'int32'), tf.scalar(t, 'int32')), end); // [B], into [B * T]
      const flat = tf.reshape(lastHiddenState, [b * t, -1]); // [B * T, D]
      const pooledOutput = tf.gather(flat, rows) as tf.Tensor2D; // [B, D]
      return { lastHiddenState, pooledOutput };
    });
  }

  /** int32 [B]: the first end token of each row, or the largest id for configs without one. */
  private endPositions(ids: tf.Tensor): tf.Tensor {
    if (poolsAtLargestId(this.config)) return tf.cast(tf.argMax(ids, -1), 'int32');
    const isEnd = tf.cast(tf.equal(ids, this.config.eos_token_id as number), 'int32'); // [B, T]
    return tf.cast(tf.argMax(isEnd, -1), 'int32');
  }
}
