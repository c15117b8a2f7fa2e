import { type CLIPConfig, resolveCLIPConfig } from './clip-config.js';

const PRESETS = {
  /** This project's own CLIP to train from scratch: two 6-layer, 512-wide towers, 256-token captions. */
  seed: {
    text_config: {
      vocab_size: 49408,
      hidden_size: 512,
      intermediate_size: 2048,
      num_hidden_layers: 6,
      num_attention_heads: 8,
      max_position_embeddings: 256,
      eos_token_id: 49407,
      bos_token_id: 49406,
      pad_token_id: 49407,
    },
    vision_config: {
      hidden_size: 512,
      intermediate_size: 2048,
      num_hidden_layers: 6,
      num_attention_heads: 8,
      image_size: 256,
      patch_size: 32,
    },
    projection_dim: 512,
  },
  /** OpenAI's ViT-B/32 as published on the Hugging Face Hub. */
  'openai/clip-vit-base-patch32': {
    text_config: {
      hidden_size: 512,
      intermediate_size: 2048,
      num_hidden_layers: 12,
      num_attention_heads: 8,
      max_position_embeddings: 77,
      eos_token_id: 49407,
    },
    vision_config: {
      hidden_size: 768,
      intermediate_size: 3072,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      image_size: 224,
      patch_size: 32,
    },
    projection_dim: 512,
  },
  /** OpenAI's ViT-L/14 (224 px) as published on the Hugging Face Hub. */
  'openai/clip-vit-large-patch14': {
    text_config: {
      hidden_size: 768,
      intermediate_size: 3072,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      max_position_embeddings: 77,
      eos_token_id: 49407,
    },
    vision_config: {
      hidden_size: 1024,
      intermediate_size: 4096,
      num_hidden_layers: 24,
      num_attention_heads: 16,
      image_size: 224,
      patch_size: 14,
    },
    projection_dim: 768,
  },
} as const;

export type CLIPPresetName = keyof typeof PRESETS;

export const clipPresetNames = Object.keys(PRESETS) as readonly CLIPPresetName[];

/** A preset's full config (a fresh copy); an unknown name throws an Error listing the valid ones. */
export function clipPreset(name: CLIPPresetName): CLIPConfig {
  if (!Object.hasOwn(PRESETS, name)) {
    throw new Error(`Unknown CLIP preset "${name}"; valid: ${clipPresetNames.join(', ')}`);
  }
  return resolveCLIPConfig(structuredClone(PRESETS[name]));
}
