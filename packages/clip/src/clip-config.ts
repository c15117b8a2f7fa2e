import { type ActivationName, activationNames } from '@dalle2js/core';

/**
 * The text tower's sizes, with Hugging Face `CLIPTextConfig` field names so that a `config.json`
 * from the Hub reads as it is. Defaults are Hugging Face's (the ViT-B/32 text tower).
 */
export interface CLIPTextConfig {
  /** Default 49408. */
  vocab_size: number;
  /** Width; default 512. */
  hidden_size: number;
  /** MLP width; default 2048. */
  intermediate_size: number;
  /** Default 12. */
  num_hidden_layers: number;
  /** Default 8. */
  num_attention_heads: number;
  /** Context length; default 77. */
  max_position_embeddings: number;
  /** Default 'quick_gelu'; see {@link hiddenActNames}. */
  hidden_act: string;
  /** Default 1e-5. */
  layer_norm_eps: number;
  /**
   * The end token that pooling looks for (the first one in each row). Missing, or 2 (what old
   * Hugging Face configs hold), pools at the largest id instead, like OpenAI's CLIP, which is the
   * end token in OpenAI's vocabulary.
   */
  eos_token_id?: number;
  bos_token_id?: number;
  pad_token_id?: number;
}

/** The vision tower's sizes (Hugging Face `CLIPVisionConfig` names); defaults are ViT-B/32's. */
export interface CLIPVisionConfig {
  /** Width; default 768. */
  hidden_size: number;
  /** MLP width; default 3072. */
  intermediate_size: number;
  /** Default 12. */
  num_hidden_layers: number;
  /** Default 12. */
  num_attention_heads: number;
  /** Side of the square input image; default 224. */
  image_size: number;
  /** Side of a square patch, also the patch convolution's stride; default 32. */
  patch_size: number;
  /** Default 3. */
  num_channels: number;
  /** Default 'quick_gelu'. */
  hidden_act: string;
  /** Default 1e-5. */
  layer_norm_eps: number;
}

/** A whole CLIP, as in Hugging Face `CLIPConfig`. */
export interface CLIPConfig {
  text_config: CLIPTextConfig;
  vision_config: CLIPVisionConfig;
  /** Size of the shared embedding space; default 512. */
  projection_dim: number;
  /** Initial log temperature; default 2.6592 = ln(1 / 0.07). */
  logit_scale_init_value: number;
}

/** What {@link resolveCLIPConfig} accepts: any field may be left out, and unknown fields are ignored. */
export interface CLIPConfigInput {
  text_config?: Partial<CLIPTextConfig>;
  vision_config?: Partial<CLIPVisionConfig>;
  projection_dim?: number;
  logit_scale_init_value?: number;
}

export const DEFAULT_TEXT_CONFIG: Readonly<CLIPTextConfig> = {
  vocab_size: 49408,
  hidden_size: 512,
  intermediate_size: 2048,
  num_hidden_layers: 12,
  num_attention_heads: 8,
  max_position_embeddings: 77,
  hidden_act: 'quick_gelu',
  layer_norm_eps: 1e-5,
};

const TOKEN_ID_KEYS = ['eos_token_id', 'bos_token_id', 'pad_token_id'] as const;

export const DEFAULT_VISION_CONFIG: Readonly<CLIPVisionConfig> = {
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  image_size: 224,
  patch_size: 32,
  num_channels: 3,
  hidden_act: 'quick_gelu',
  layer_norm_eps: 1e-5,
};

// Hugging Face's other spellings of the same functions: gelu_new, gelu_fast and gelu_pytorch_tanh are
// all the tanh approximation, swish is silu.
const HIDDEN_ACT_ALIASES: Readonly<Record<string, ActivationName>> = {
  gelu_new: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  swish: 'silu',
};

/** Every `hidden_act` value a config may hold. */
export const hiddenActNames: readonly string[] = [...activationNames, ...Object.keys(HIDDEN_ACT_ALIASES)];

/** The core activation that a config's `hidden_act` names. */
export function activationOf(hiddenAct: string): ActivationName {
  const alias = HIDDEN_ACT_ALIASES[hiddenAct];
  if (alias !== undefined) return alias;
  if ((activationNames as readonly string[]).includes(hiddenAct)) return hiddenAct as ActivationName;
  throw new Error(`Unknown hidden_act "${hiddenAct}"; valid: ${hiddenActNames.join(', ')}`);
}

/** True when pooling should take the largest id rather than look for `eos_token_id`. */
export function poolsAtLargestId(text: CLIPTextConfig): boolean {
  return text.eos_token_id === undefined || text.eos_token_id === 2;
}

/**
 * Fills in defaults and validates once; every error names the field, the value and what is valid.
 * Accepts a parsed Hugging Face `config.json` as it is.
 */
export function resolveCLIPConfig(input: CLIPConfigInput = {}): CLIPConfig {
  if (!isRecord(input)) throw new TypeError(`CLIP config must be an object, got ${describe(input)}`);
  const textInput = optionalRecord(input.text_config, 'text_config');
  const visionInput = optionalRecord(input.vision_config, 'vision_config');
  const text: CLIPTextConfig = { ...DEFAULT_TEXT_CONFIG };
  for (const key of [...Object.keys(DEFAULT_TEXT_CONFIG), ...TOKEN_ID_KEYS] as (keyof CLIPTextConfig)[]) {
    if (key in textInput) (text as unknown as Record<string, unknown>)[key] = textInput[key];
  }
  const vision: CLIPVisionConfig = { ...DEFAULT_VISION_CONFIG };
  for (const key of Object.keys(DEFAULT_VISION_CONFIG) as (keyof CLIPVisionConfig)[]) {
    if (key in visionInput) (vision as unknown as Record<string, unknown>)[key] = visionInput[key];
  }
  const config: CLIPConfig = {
    text_config: text,
    vision_config: vision,
    projection_dim: (input.projection_dim as number | undefined) ?? 512,
    logit_scale_init_value: (input.logit_scale_init_value as number | undefined) ?? 2.6592,
  };

  for (const key of [
    'vocab_size',
    'hidden_size',
    'intermediate_size',
    'num_hidden_layers',
    'num_attention_heads',
    'max_position_embeddings',
  ] as const) {
    positiveInteger(`text_config.${key}`, text[key]);
  }
  for (const key of [
    'hidden_size',
    'intermediate_size',
    'num_hidden_layers',
    'num_attention_heads',
    'image_size',
    'patch_size',
    'num_channels',
  ] as const) {
    positiveInteger(`vision_config.${key}`, vision[key]);
  }
  positiveInteger('projection_dim', config.projection_dim);
  for (const [name, tower] of [
    ['text_config', text],
    ['vision_config', vision],
  ] as const) {
    if (tower.hidden_size % tower.num_attention_heads !== 0) {
      throw new Error(
        `CLIP config: ${name}.hidden_size ${tower.hidden_size} must be divisible by ${name}.num_attention_heads ${tower.num_attention_heads}`,
      );
    }
    if (typeof tower.hidden_act !== 'string' || !hiddenActNames.includes(tower.hidden_act)) {
      throw new Error(
        `CLIP config: ${name}.hidden_act ${describe(tower.hidden_act)} is not supported; valid: ${hiddenActNames.join(', ')}`,
      );
    }
    if (typeof tower.layer_norm_eps !== 'number' || !(tower.layer_norm_eps > 0)) {
      throw new Error(
        `CLIP config: ${name}.layer_norm_eps must be a positive number, got ${describe(tower.layer_norm_eps)}`,
      );
    }
  }
  if (vision.patch_size > vision.image_size) {
    throw new Error(
      `CLIP config: vision_config.patch_size ${vision.patch_size} is larger than vision_config.image_size ${vision.image_size}`,
    );
  }
  for (const key of TOKEN_ID_KEYS) {
    const id = text[key];
    if (id === undefined || id === null) {
      delete text[key];
    } else if (!Number.isInteger(id) || id < 0) {
      throw new Error(`CLIP config: text_config.${key} must be a non-negative integer, got ${describe(id)}`);
    }
  }
  if (!poolsAtLargestId(text) && (text.eos_token_id as number) >= text.vocab_size) {
    throw new Error(
      `CLIP config: text_config.eos_token_id ${text.eos_token_id} is outside the vocabulary [0, ${text.vocab_size})`,
    );
  }
  if (typeof config.logit_scale_init_value !== 'number' || !Number.isFinite(config.logit_scale_init_value)) {
    throw new Error(
      `CLIP config: logit_scale_init_value must be a finite number, got ${describe(config.logit_scale_init_value)}`,
    );
  }
  return config;
}

/** The number of patches along one side of the image. */
export function patchesPerSide(vision: CLIPVisionConfig): number {
  return Math.floor(vision.image_size / vision.patch_size);
}

function positiveInteger(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`CLIP config: ${field} must be a positive integer, got ${describe(value)}`);
  }
}

function optionalRecord(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value))
    throw new TypeError(`CLIP config: ${field} must be an object, got ${describe(value)}`);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
