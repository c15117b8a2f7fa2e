import { Conv2d, Embedding, LayerNorm, Module, type Rng } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { activationOf, type CLIPVisionConfig, patchesPerSide } from './clip-config.js';
import { CLIPEncoder } from './clip-encoder.js';

export interface CLIPVisionOutput {
  /** [B, 1 + N, D]: the encoder's output, class token first (no final layer norm, as in Hugging Face). */
  lastHiddenState: tf.Tensor3D;
  /** [B, D]: the class token after `post_layernorm`. */
  pooledOutput: tf.Tensor2D;
}

/** A class token, then one token per patch, plus learned position embeddings. */
export class CLIPVisionEmbeddings extends Module {
  readonly class_embedding: tf.Variable; // [D]
  readonly patch_embedding: Conv2d;
  readonly position_embedding: Embedding;

  constructor(
    readonly config: CLIPVisionConfig,
    rng: Rng,
  ) {
    super();
    const { hidden_size: d, patch_size: p, num_channels: c } = config;
    this.class_embedding = tf.tidy(() => this.addParameter('class_embedding', tf.tensor(rng.normal(d), [d])));
    this.patch_embedding = this.addModule(
      'patch_embedding',
      new Conv2d(c, d, p, { stride: p, padding: 'valid', bias: false, rng }),
    );
    const positions = patchesPerSide(config) ** 2 + 1;
    this.position_embedding = this.addModule('position_embedding', new Embedding(positions, d, { rng }));
  }

  /** pixels [B, S, S, C] (NHWC) -> [B, 1 + N, D] with N = (S / patch)^2 */
  apply(pixels: tf.Tensor): tf.Tensor {
    const b = pixels.shape[0] as number;
    const d = this.config.hidden_size;
    return tf.tidy(() => {
      const patches = this.patch_embedding.apply(pixels); // [B, S/p, S/p, D]
      const tokens = tf.reshape(patches, [b, -1, d]); // [B, N, D], row-major over the grid like HF's flatten
      const cls = tf.broadcastTo(tf.reshape(this.class_embedding, [1, 1, d]), [b, 1, d]); // [B, 1, D]
      return tf.add(tf.concat([cls, tokens], 1), this.position_embedding.weight); // [B, 1 + N, D]
    });
  }
}

/** CLIP's vision tower: a ViT pooled at the class token (Hugging Face `vision_model`). */
export class CLIPVisionTransformer extends Module {
  readonly embeddings: CLIPVisionEmbeddings;
  readonly pre_layrnorm: LayerNorm; // sic: the checkpoint key
  readonly encoder: CLIPEncoder;
  readonly post_layernorm: LayerNorm;

  constructor(
    readonly config: CLIPVisionConfig,
    rng: Rng,
  ) {
    super();
    const eps = config.layer_norm_eps;
    this.embeddings = this.addModule('embeddings', new CLIPVisionEmbeddings(config, rng));
    this.pre_layrnorm = this.addModule('pre_layrnorm', new LayerNorm(config.hidden_size, { eps }));
    this.encoder = this.addModule(
      'encoder',
      new CLIPEncoder({
        hiddenSize: config.hidden_size,
        intermediateSize: config.intermediate_size,
        numLayers: config.num_hidden_layers,
        numHeads: config.num_attention_heads,
        activation: activationOf(config.hidden_act),
        layerNormEps: eps,
        rng,
      }),
    );
    this.post_layernorm = this.addModule('post_layernorm', new LayerNorm(config.hidden_size, { eps }));
  }

  /** The input shape this tower takes, for error messages. */
  get expectedShape(): string {
    const { image_size: s, num_channels: c } = this.config;
    return `[B, ${s}, ${s}, ${c}]`;
  }

  /** pixels: normalised float32 [B, S, S, C], NHWC (see `CLIPImageProcessor`). */
  apply(pixels: tf.Tensor): CLIPVisionOutput {
    const { image_size: s, num_channels: c } = this.config;
    const [b, h, w, channels] = pixels.shape;
    if (pixels.rank !== 4 || h !== s || w !== s || channels !== c || b === 0) {
      throw new Error(
        `CLIP vision: expected images of shape ${this.expectedShape} (NHWC), got [${pixels.shape.join(', ')}]`,
      );
    }
    if (pixels.dtype !== 'float32')
      throw new Error(`CLIP vision: expected float32 images, got ${pixels.dtype}`);
    return tf.tidy(() => {
      const x = this.pre_layrnorm.apply(this.embeddings.apply(pixels)); // [B, 1 + N, D]
      const lastHiddenState = this.encoder.apply(x) as tf.Tensor3D; // [B, 1 + N, D]
      const cls = tf.squeeze(tf.slice(lastHiddenState, [0, 0, 0], [-1, 1, -1]), [1]); // [B, D]
      const pooledOutput = this.post_layernorm.apply(cls) as tf.Tensor2D;
      return { lastHiddenState, pooledOutput };
    });
  }
}
