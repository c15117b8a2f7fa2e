import type { Module, Rng } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import type { CLIPConfig } from './clip-config.js';

/**
 * Draws a CLIP's weights as Hugging Face's `CLIPPreTrainedModel._init_weights` does (with
 * initializer_factor 1): embeddings N(0, 0.02), class token N(0, D^-1/2), attention and MLP
 * projections scaled by width and depth, projections N(0, D^-1/2), biases zero, layer norms one and
 * zero. Draws follow parameter order, so one seed always gives the same model.
 */
export function initCLIPWeights(model: Module, config: CLIPConfig, rng: Rng): void {
  for (const [key, { variable }] of model.namedParameters()) {
    const std = initStd(key, config);
    if (std === undefined) continue;
    tf.tidy(() => {
      if (std === 0) variable.assign(tf.zeros(variable.shape));
      else variable.assign(tf.mul(tf.tensor(rng.normal(variable.size), variable.shape, 'float32'), std));
    });
  }
}

/** The standard deviation of a parameter's normal init, 0 for zeros, undefined to keep it as built. */
function initStd(key: string, config: CLIPConfig): number | undefined {
  const tower = key.startsWith('text_model.') ? config.text_config : config.vision_config;
  const d = tower.hidden_size;
  const inProjStd = d ** -0.5 * (2 * tower.num_hidden_layers) ** -0.5;
  if (key === 'logit_scale' || /layer_?norm|layrnorm/.test(key)) return undefined;
  if (key.endsWith('.bias')) return 0;
  if (key.endsWith('token_embedding.weight') || key.endsWith('position_embedding.weight')) return 0.02;
  if (key.endsWith('patch_embedding.weight')) return 0.02;
  if (key.endsWith('class_embedding')) return d ** -0.5;
  if (/self_attn\.[qkv]_proj\.weight$/.test(key)) return inProjStd;
  if (key.endsWith('self_attn.out_proj.weight')) return d ** -0.5;
  if (key.endsWith('mlp.fc1.weight')) return (2 * d) ** -0.5;
  if (key.endsWith('mlp.fc2.weight')) return inProjStd;
  if (key === 'text_projection.weight') return config.text_config.hidden_size ** -0.5;
  if (key === 'visual_projection.weight') return config.vision_config.hidden_size ** -0.5;
  throw new Error(`initCLIPWeights: no rule for parameter "${key}"`);
}
