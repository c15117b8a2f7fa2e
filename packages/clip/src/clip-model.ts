import { Linear, Module, type Rng } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { type CLIPConfig, type CLIPConfigInput, resolveCLIPConfig } from './clip-config.js';
import { CLIPImageProcessor } from './clip-image-processor.js';
import { CLIPTextTransformer } from './clip-text-transformer.js';
import { CLIPVisionTransformer } from './clip-vision-transformer.js';
import { initCLIPWeights } from './init-clip-weights.js';
import type { CLIPTokenizer } from './tokenizer/clip-tokenizer.js';
import { defaultRng, ZERO_RNG } from './zero-rng.js';

/** OpenAI clamps the learned temperature so that logits stay at most 100 times the cosine similarity. */
export const MAX_LOGIT_SCALE = 100;

/**
 * Text for the text tower: strings (the model needs a tokenizer), token ids as arrays (rows of
 * different lengths are padded with the end token), or an int32 tensor [B, T].
 */
export type CLIPTextInput = readonly string[] | readonly (readonly number[])[] | tf.Tensor;

export interface CLIPModelOptions {
  /** Where the initial weights come from; default core's global generator. */
  rng?: Rng;
  /**
   * 'clip' (default): Hugging Face CLIP's initialisation. 'zeros': zero weights and unit layer
   * norms, drawing nothing; for models whose weights are loaded next.
   */
  init?: 'clip' | 'zeros';
  /** Turns strings into ids; needed to pass text as strings. */
  tokenizer?: CLIPTokenizer;
  /** Default: CLIP's preprocessing at the config's image size. */
  imageProcessor?: CLIPImageProcessor;
}

export interface CLIPForwardInputs {
  text: CLIPTextInput;
  /** [B, T] 1 = token, 0 = padding, for ids given as a tensor; strings and arrays make their own. */
  attentionMask?: tf.Tensor;
  /** Preprocessed images [B, S, S, C], NHWC (see `CLIPImageProcessor`). */
  images: tf.Tensor;
}

/** Everything one forward pass computes. Every tensor belongs to the caller. */
export interface CLIPOutput {
  /** [Bt, Bi]: scaled cosine similarities. */
  logitsPerText: tf.Tensor2D;
  /** [Bi, Bt]: the transpose. */
  logitsPerImage: tf.Tensor2D;
  /** [Bt, P], L2-normalised. */
  textEmbeds: tf.Tensor2D;
  /** [Bi, P], L2-normalised. */
  imageEmbeds: tf.Tensor2D;
  /** [Bt, P]: projected, before normalisation (Hugging Face's `get_text_features`). */
  textFeatures: tf.Tensor2D;
  /** [Bi, P]: projected, before normalisation. */
  imageFeatures: tf.Tensor2D;
  /** [Bt, T, Dt] */
  textLastHiddenState: tf.Tensor3D;
  /** [Bt, Dt]: the text tower's state at the end token. */
  textPooledOutput: tf.Tensor2D;
  /** [Bi, 1 + N, Dv] */
  visionLastHiddenState: tf.Tensor3D;
  /** [Bi, Dv]: the class token after the last layer norm. */
  visionPooledOutput: tf.Tensor2D;
}

export interface EncodeOptions {
  /** L2-normalise the embeddings; default true. */
  normalize?: boolean;
}

export interface ZeroShotOptions {
  /** Each label is put in place of `{}`; default '{}' (the label as it is). */
  template?: string;
}

/**
 * OpenAI's CLIP: a text and a vision transformer projected into one embedding space. Parameter
 * keys equal Hugging Face's `CLIPModel` state dict (`text_model.encoder.layers.0.self_attn.q_proj.weight`).
 */
export class CLIPModel extends Module {
  readonly config: CLIPConfig;
  readonly text_model: CLIPTextTransformer;
  readonly vision_model: CLIPVisionTransformer;
  readonly visual_projection: Linear;
  readonly text_projection: Linear;
  readonly logit_scale: tf.Variable; // [] log temperature
  tokenizer: CLIPTokenizer | undefined;
  /** Turns PNGs, decoded images or tensors into what {@link encodeImage} takes. */
  imageProcessor: CLIPImageProcessor;

  constructor(config: CLIPConfigInput = {}, options: CLIPModelOptions = {}) {
    super();
    const c = resolveCLIPConfig(config);
    const init = options.init ?? 'clip';
    if (init !== 'clip' && init !== 'zeros')
      throw new Error(`CLIPModel: unknown init "${init}"; valid: clip, zeros`);
    this.config = c;
    this.tokenizer = options.tokenizer;
    this.imageProcessor =
      options.imageProcessor ?? new CLIPImageProcessor({ shortestEdge: c.vision_config.image_size });
    // Built from zeros, then drawn once below, so that no weight is drawn twice.
    const rng = ZERO_RNG;
    const p = c.projection_dim;
    this.text_model = this.addModule('text_model', new CLIPTextTransformer(c.text_config, rng));
    this.vision_model = this.addModule('vision_model', new CLIPVisionTransformer(c.vision_config, rng));
    this.visual_projection = this.addModule(
      'visual_projection',
      new Linear(c.vision_config.hidden_size, p, { bias: false, rng }),
    );
    this.text_projection = this.addModule(
      'text_projection',
      new Linear(c.text_config.hidden_size, p, { bias: false, rng }),
    );
    this.logit_scale = tf.tidy(() => this.addParameter('logit_scale', tf.scalar(c.logit_scale_init_value)));
    if (init === 'clip') initCLIPWeights(this, c, options.rng ?? defaultRng());
  }

  /** The context length: the most tokens a text may have, start and end included. */
  get contextLength(): number {
    return this.config.text_config.max_position_embeddings;
  }

  /** exp(logit_scale), at most {@link MAX_LOGIT_SCALE}. */
  logitScale(): tf.Scalar {
    return tf.tidy(() => tf.minimum(tf.exp(this.logit_scale), MAX_LOGIT_SCALE) as tf.Scalar);
  }

  /** Int32 ids [B, T] and the attention mask [B, T] for any {@link CLIPTextInput}. */
  tokenize(
    text: CLIPTextInput,
    attentionMask?: tf.Tensor,
  ): { ids: tf.Tensor2D; attentionMask?: tf.Tensor2D } {
    if (text instanceof tf.Tensor) {
      if (text.dtype !== 'int32' || text.rank !== 2) {
        throw new Error(
          `CLIPModel: expected int32 ids of shape [B, T], got ${text.dtype} [${text.shape.join(', ')}]`,
        );
      }
      return tf.tidy(() => ({
        ids: tf.clone(text) as tf.Tensor2D,
        ...(attentionMask === undefined
          ? {}
          : { attentionMask: tf.cast(attentionMask, 'float32') as tf.Tensor2D }),
      }));
    }
    if (attentionMask !== undefined) {
      throw new Error(
        'CLIPModel: attentionMask is only taken with ids given as a tensor; texts and arrays make their own',
      );
    }
    if (!Array.isArray(text) || text.length === 0) {
      throw new Error(
        'CLIPModel: expected a non-empty array of strings, an array of id arrays, or an int32 tensor [B, T]',
      );
    }
    text.forEach((row, r) => {
      if (typeof row !== 'string' && !Array.isArray(row)) {
        throw new Error(
          `CLIPModel: text[${r}] must be a string or a non-empty array of ids, got ${describe(row)}`,
        );
      }
    });
    const strings = text.filter((row) => typeof row === 'string').length;
    if (strings > 0 && strings < text.length) {
      throw new Error('CLIPModel: texts mix strings and id arrays; pass one kind');
    }
    const batch =
      strings > 0
        ? this.encodeStrings(text as readonly string[])
        : this.padIds(text as readonly (readonly number[])[]);
    return tf.tidy(() => ({
      ids: tf.tensor2d(batch.ids, batch.shape, 'int32'),
      attentionMask: tf.tensor2d(batch.attentionMask, batch.shape, 'float32'),
    }));
  }

  /** Text embeddings [B, P], L2-normalised unless `normalize` is false. */
  encodeText(text: CLIPTextInput, options: EncodeOptions & { attentionMask?: tf.Tensor } = {}): tf.Tensor2D {
    const tokens = this.tokenize(text, options.attentionMask);
    try {
      return tf.tidy(() => {
        const { pooledOutput } = this.text_model.apply(tokens.ids, tokens.attentionMask);
        const features = this.text_projection.apply(pooledOutput) as tf.Tensor2D; // [B, P]
        return options.normalize === false ? features : l2Normalize(features);
      });
    } finally {
      tf.dispose([tokens.ids, tokens.attentionMask]);
    }
  }

  /** Image embeddings [B, P] from preprocessed images [B, S, S, C], L2-normalised unless `normalize` is false. */
  encodeImage(images: tf.Tensor, options: EncodeOptions = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const { pooledOutput } = this.vision_model.apply(images);
      const features = this.visual_projection.apply(pooledOutput) as tf.Tensor2D; // [B, P]
      return options.normalize === false ? features : l2Normalize(features);
    });
  }

  /** Cosine similarity of every text with every image: [numTexts, numImages], in [-1, 1]. */
  similarity(text: CLIPTextInput, images: tf.Tensor): tf.Tensor2D {
    const textEmbeds = this.encodeText(text);
    try {
      return tf.tidy(() => tf.matMul(textEmbeds, this.encodeImage(images), false, true) as tf.Tensor2D);
    } finally {
      textEmbeds.dispose();
    }
  }

  /** Probabilities [numImages, numLabels]: a softmax over the scaled similarity to each label's text. */
  zeroShotClassify(images: tf.Tensor, labels: readonly string[], options: ZeroShotOptions = {}): tf.Tensor2D {
    const template = options.template ?? '{}';
    if (
      !Array.isArray(labels) ||
      labels.length === 0 ||
      !labels.every((label) => typeof label === 'string')
    ) {
      throw new Error('CLIPModel.zeroShotClassify: expected a non-empty array of label strings');
    }
    const textEmbeds = this.encodeText(labels.map((label) => template.replaceAll('{}', label)));
    try {
      return tf.tidy(() => {
        const logits = tf.mul(
          tf.matMul(this.encodeImage(images), textEmbeds, false, true),
          this.logitScale(),
        ); // [Bi, L]
        return tf.softmax(logits, -1) as tf.Tensor2D;
      });
    } finally {
      textEmbeds.dispose();
    }
  }

  /** Both towers, the projections and the logits, like Hugging Face's `CLIPModel.forward`. */
  forward(inputs: CLIPForwardInputs): CLIPOutput {
    const tokens = this.tokenize(inputs.text, inputs.attentionMask);
    try {
      return tf.tidy(() => {
        const text = this.text_model.apply(tokens.ids, tokens.attentionMask);
        const vision = this.vision_model.apply(inputs.images);
        const textFeatures = this.text_projection.apply(text.pooledOutput) as tf.Tensor2D; // [Bt, P]
        const imageFeatures = this.visual_projection.apply(vision.pooledOutput) as tf.Tensor2D; // [Bi, P]
        const textEmbeds = l2Normalize(textFeatures);
        const imageEmbeds = l2Normalize(imageFeatures);
        const logitsPerText = tf.mul(
          tf.matMul(textEmbeds, imageEmbeds, false, true),
          this.logitScale(),
        ) as tf.Tensor2D;
        return {
          logitsPerText, // [Bt, Bi]
          logitsPerImage: tf.transpose(logitsPerText) as tf.Tensor2D, // [Bi, Bt]
          textEmbeds,
          imageEmbeds,
          textFeatures,
          imageFeatures,
          textLastHiddenState: text.lastHiddenState,
          textPooledOutput: text.pooledOutput,
          visionLastHiddenState: vision.lastHiddenState,
          visionPooledOutput: vision.pooledOutput,
        };
      });
    } finally {
      tf.dispose([tokens.ids, tokens.attentionMask]);
    }
  }

  private encodeStrings(texts: readonly string[]): {
    ids: Int32Array;
    shape: [number, number];
    attentionMask: Int32Array;
  } {
    if (this.tokenizer === undefined) {
      throw new Error(
        'CLIPModel: texts given as strings need a tokenizer (pass one to the constructor or use loadCLIP)',
      );
    }
    return this.tokenizer.encodeBatch(texts, { contextLength: this.contextLength });
  }

  private padIds(rows: readonly (readonly number[])[]): {
    ids: Int32Array;
    shape: [number, number];
    attentionMask: Int32Array;
  } {
    const { vocab_size: vocabSize, eos_token_id: eos } = this.config.text_config;
    const context = this.contextLength;
    const padId = this.tokenizer?.endId ?? eos ?? 0;
    rows.forEach((row, r) => {
      if (row.length === 0) {
        throw new Error(
          `CLIPModel: text[${r}] must be a string or a non-empty array of ids, got ${describe(row)}`,
        );
      }
      if (row.length > context) {
        throw new Error(
          `CLIPModel: text[${r}] has ${row.length} ids, more than the context length ${context}`,
        );
      }
      for (const id of row) {
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
          throw new Error(`CLIPModel: text[${r}] holds id ${id}, outside the vocabulary [0, ${vocabSize})`);
        }
      }
    });
    const length = Math.max(...rows.map((row) => row.length));
    const ids = new Int32Array(rows.length * length).fill(padId);
    const attentionMask = new Int32Array(rows.length * length);
    rows.forEach((row, r) => {
      ids.set(row, r * length);
      attentionMask.fill(1, r * length, r * length + row.length);
    });
    return { ids, shape: [rows.length, length], attentionMask };
  }
}

/** x / ||x|| along the last axis. */
function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.norm(x, 'euclidean', -1, true)) as tf.Tensor2D);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return value === null ? 'null' : typeof value;
}
