import {
  type ActivationName,
  LayerNorm,
  MLP,
  Module,
  ModuleList,
  MultiheadAttention,
  type Rng,
} from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';

/** The sizes one transformer tower needs; both towers' configs carry these fields. */
export interface CLIPEncoderOptions {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  activation: ActivationName;
  layerNormEps: number;
  rng: Rng;
}

export interface CLIPEncoderInputs {
  /** Each position sees itself and the positions before it (the text tower). */
  causal?: boolean;
  /** [B, T], 1 = a real token, 0 = padding that no position attends to. */
  attentionMask?: tf.Tensor;
}

/** A pre-LN residual block: `x + attn(ln1(x))`, then `x + mlp(ln2(x))`. */
export class CLIPEncoderLayer extends Module {
  readonly self_attn: MultiheadAttention;
  readonly layer_norm1: LayerNorm;
  readonly mlp: MLP;
  readonly layer_norm2: LayerNorm;

  constructor(options: CLIPEncoderOptions) {
    super();
    const { hiddenSize, intermediateSize, numHeads, activation, layerNormEps: eps, rng } = options;
    // Registration order follows Hugging Face's CLIPEncoderLayer.
    this.self_attn = this.addModule('self_attn', new MultiheadAttention(hiddenSize, numHeads, { rng }));
    this.layer_norm1 = this.addModule('layer_norm1', new LayerNorm(hiddenSize, { eps }));
    this.mlp = this.addModule('mlp', new MLP(hiddenSize, intermediateSize, { activation, rng }));
    this.layer_norm2 = this.addModule('layer_norm2', new LayerNorm(hiddenSize, { eps }));
  }

  /** [B, T, D] -> [B, T, D] */
  apply(x: tf.Tensor, inputs: CLIPEncoderInputs = {}): tf.Tensor {
    return tf.tidy(() => {
      // Both residuals are added by the projections' kernels, on webgpu.
      const h = this.self_attn.apply(this.layer_norm1.apply(x), {
        causal: inputs.causal ?? false,
        keyPaddingMask: inputs.attentionMask,
        residual: x,
      }); // [B, T, D]
      return this.mlp.apply(this.layer_norm2.apply(h), { residual: h });
    });
  }
}

/** A stack of {@link CLIPEncoderLayer}s under `layers.0`, `layers.1`, ... */
export class CLIPEncoder extends Module {
  readonly layers: ModuleList<CLIPEncoderLayer>;

  constructor(options: CLIPEncoderOptions) {
    super();
    const layers = Array.from({ length: options.numLayers }, () => new CLIPEncoderLayer(options));
    this.layers = this.addModule('layers', new ModuleList(layers));
  }

  /** [B, T, D] -> [B, T, D] */
  apply(x: tf.Tensor, inputs: CLIPEncoderInputs = {}): tf.Tensor {
    return tf.tidy(() => {
      let h = x;
      for (const layer of this.layers.items) h = layer.apply(h, inputs);
      return h;
    });
  }
}
