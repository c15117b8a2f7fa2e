import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIPModel, CLIPTokenizer, clipPreset, trainBPE } from '@dalle2js/clip';
import type { Rng } from '@dalle2js/core';
import type { UNetConfigInput } from '@dalle2js/unet';

/** The committed default model, from bench/dist/main.js. */
export const DEFAULT_MODEL = fileURLToPath(new URL('../../models/shapes', import.meta.url));

/** The U-Net config of the default model's first decoder stage, as its config.json holds it. */
export function defaultModelUNetConfig(): UNetConfigInput {
  const config = JSON.parse(readFileSync(join(DEFAULT_MODEL, 'config.json'), 'utf8'));
  return config.decoders[0].config.unet;
}

/** Prompts for the text side: four short captions. */
export const PROMPTS = [
  'a red circle on a white background',
  'a small blue square',
  'a green triangle',
  'two yellow stars',
];

/**
 * The `seed` CLIP (two 6-layer, 512-wide towers, 256 px images in 32 px patches) with a BPE
 * vocabulary learned from the prompts instead of OpenAI's 49408 tokens, which would need the
 * merges file: only the embedding table is smaller, and the encoders cost the same.
 */
export function seedCLIP(rng: Rng): CLIPModel {
  const tokenizer = new CLIPTokenizer(trainBPE(PROMPTS, { vocabSize: 600, minFrequency: 1 }));
  const config = clipPreset('seed');
  return new CLIPModel(
    {
      ...config,
      text_config: {
        ...config.text_config,
        vocab_size: tokenizer.vocabSize,
        eos_token_id: tokenizer.endId,
        bos_token_id: tokenizer.startId,
        pad_token_id: tokenizer.endId,
      },
    },
    { rng, tokenizer },
  );
}
