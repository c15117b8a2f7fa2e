import { describe, expect, it } from 'vitest';
import {
  type CLIPConfig,
  CLIPModel,
  clipPreset,
  clipPresetNames,
  hiddenActNames,
  resolveCLIPConfig,
} from '../src/index.js';

/** Trainable scalars of a CLIP, counted from its config the way Hugging Face's model is built. */
function countParameters(config: CLIPConfig): number {
  const tower = (d: number, inner: number, layers: number) =>
    layers * (4 * (d * d + d) + 2 * 2 * d + (d * inner + inner) + (inner * d + d));
  const t = config.text_config;
  const v = config.vision_config;
  const grid = Math.floor(v.image_size / v.patch_size) ** 2;
  const text = t.vocab_size * t.hidden_size + t.max_position_embeddings * t.hidden_size;
  const vision =
    v.hidden_size + v.num_channels * v.patch_size ** 2 * v.hidden_size + (grid + 1) * v.hidden_size;
  return (
    text +
    tower(t.hidden_size, t.intermediate_size, t.num_hidden_layers) +
    2 * t.hidden_size +
    vision +
    2 * v.hidden_size +
    tower(v.hidden_size, v.intermediate_size, v.num_hidden_layers) +
    2 * v.hidden_size +
    config.projection_dim * (t.hidden_size + v.hidden_size) +
    1
  );
}

describe('resolveCLIPConfig', () => {
  it("fills in Hugging Face's defaults (ViT-B/32) and reads a Hub config.json as it is", () => {
    const config = resolveCLIPConfig({
      architectures: ['CLIPModel'],
      text_config: { hidden_size: 64, attention_dropout: 0, eos_token_id: 644 },
      vision_config: { patch_size: 8, initializer_range: 0.02 },
    } as never);
    expect(config.text_config).toMatchObject({
      hidden_size: 64,
      vocab_size: 49408,
      max_position_embeddings: 77,
      eos_token_id: 644,
    });
    expect(config.vision_config).toMatchObject({
      hidden_size: 768,
      image_size: 224,
      patch_size: 8,
      hidden_act: 'quick_gelu',
    });
    expect(config.projection_dim).toBe(512);
    expect(config.logit_scale_init_value).toBeCloseTo(2.6592);
    expect(config.text_config).not.toHaveProperty('attention_dropout');
  });

  it('names the field, the value and the valid values in every error', () => {
    expect(() => resolveCLIPConfig({ text_config: { hidden_act: 'relu6' } })).toThrow(
      `text_config.hidden_act "relu6" is not supported; valid: ${hiddenActNames.join(', ')}`,
    );
    expect(() => resolveCLIPConfig({ vision_config: { hidden_size: 50, num_attention_heads: 4 } })).toThrow(
      'vision_config.hidden_size 50 must be divisible by vision_config.num_attention_heads 4',
    );
    expect(() => resolveCLIPConfig({ projection_dim: 0 })).toThrow(
      'projection_dim must be a positive integer, got 0',
    );
    expect(() => resolveCLIPConfig({ text_config: { num_hidden_layers: 1.5 } })).toThrow(
      'text_config.num_hidden_layers must be a positive integer, got 1.5',
    );
    expect(() => resolveCLIPConfig({ vision_config: { patch_size: 300 } })).toThrow(
      'patch_size 300 is larger',
    );
    expect(() => resolveCLIPConfig({ text_config: { vocab_size: 10, eos_token_id: 12 } })).toThrow(
      'eos_token_id 12 is outside the vocabulary [0, 10)',
    );
    expect(() => resolveCLIPConfig({ text_config: 3 } as never)).toThrow('text_config must be an object');
  });

  it("accepts Hugging Face's other activation names", () => {
    for (const act of ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'silu', 'swish', 'quick_gelu']) {
      expect(resolveCLIPConfig({ text_config: { hidden_act: act } }).text_config.hidden_act).toBe(act);
    }
  });
});

describe('presets', () => {
  it('has the seed and OpenAI sizes, with the published parameter counts', () => {
    expect(clipPresetNames).toEqual([
      'seed',
      'openai/clip-vit-base-patch32',
      'openai/clip-vit-large-patch14',
    ]);
    const seed = clipPreset('seed');
    expect(seed.text_config).toMatchObject({
      hidden_size: 512,
      num_attention_heads: 8,
      max_position_embeddings: 256,
    });
    expect(seed.text_config).toMatchObject({ num_hidden_layers: 6, vocab_size: 49408 });
    expect(seed.vision_config).toMatchObject({
      hidden_size: 512,
      image_size: 256,
      patch_size: 32,
      num_hidden_layers: 6,
    });
    expect(seed.projection_dim).toBe(512);
    // transformers' CLIPModel.num_parameters() for the two OpenAI checkpoints.
    expect(countParameters(clipPreset('openai/clip-vit-base-patch32'))).toBe(151_277_313);
    expect(countParameters(clipPreset('openai/clip-vit-large-patch14'))).toBe(427_616_513);
    expect(() => clipPreset('vit-h' as never)).toThrow(`valid: ${clipPresetNames.join(', ')}`);
  });

  it('builds a model whose parameter count follows the config (checked on a small config)', () => {
    const config = resolveCLIPConfig({
      text_config: {
        vocab_size: 50,
        hidden_size: 16,
        intermediate_size: 40,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        max_position_embeddings: 9,
      },
      vision_config: {
        hidden_size: 12,
        intermediate_size: 20,
        num_hidden_layers: 3,
        num_attention_heads: 2,
        image_size: 10,
        patch_size: 3,
      },
      projection_dim: 7,
    });
    const model = new CLIPModel(config, { init: 'zeros' });
    try {
      expect(model.numParameters()).toBe(countParameters(config));
      expect(model.vision_model.embeddings.position_embedding.weight.shape).toEqual([10, 12]); // 3 x 3 patches + class
    } finally {
      model.dispose();
    }
  });

  it('builds the seed preset', () => {
    const model = new CLIPModel(clipPreset('seed'), { init: 'zeros' });
    try {
      expect(model.numParameters()).toBe(countParameters(clipPreset('seed')));
      expect(model.contextLength).toBe(256);
    } finally {
      model.dispose();
    }
  });
});
