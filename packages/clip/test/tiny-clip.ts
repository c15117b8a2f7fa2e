import { TorchGenerator } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  type CLIPConfigInput,
  CLIPModel,
  type CLIPOutput,
  type CLIPTokenizer,
  loadCLIPTokenizer,
} from '../src/index.js';
import { clipTinyDir } from './fixture-path.js';

/** A small CLIP on clip-tiny's vocabulary (645 tokens, end token 644), 8-token context, 8 px images. */
export const TINY: CLIPConfigInput = {
  text_config: {
    vocab_size: 645,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    max_position_embeddings: 8,
    eos_token_id: 644,
  },
  vision_config: {
    hidden_size: 12,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 3,
    image_size: 8,
    patch_size: 4,
  },
  projection_dim: 6,
};

export const START = 643;
export const END = 644;

export async function tinyTokenizer(warnings: string[] = []): Promise<CLIPTokenizer> {
  return loadCLIPTokenizer(clipTinyDir, { logger: { warn: (message) => warnings.push(message) } });
}

export function tinyModel(
  seed: number,
  tokenizer?: CLIPTokenizer,
  config: CLIPConfigInput = TINY,
): CLIPModel {
  return new CLIPModel(config, {
    rng: new TorchGenerator(seed),
    ...(tokenizer === undefined ? {} : { tokenizer }),
  });
}

/** Deterministic NHWC images in about [-2, 2]. */
export function tinyImages(n: number, size = 8, channels = 3): tf.Tensor4D {
  return tf.tidy(() =>
    tf.mul(tf.sin(tf.reshape(tf.range(0, n * size * size * channels), [n, size, size, channels])), 2),
  );
}

export function disposeOutput(output: CLIPOutput): void {
  tf.dispose(Object.values(output));
}
