import { allShapeSpecs, captionsFor, type ShapesSplit } from '@dalle2js/datasets';
import type { CLIPConfigInput } from '../clip-config.js';
import { CLIPTokenizer } from '../tokenizer/clip-tokenizer.js';
import { trainBPE } from '../tokenizer/train-bpe.js';

/** Side of the synthetic-shapes images the small CLIP reads. */
export const SHAPES_IMAGE_SIZE = 32;

/** Room for the ~30 words of the shapes captions to become one token each; training stops earlier. */
const SHAPES_BPE_VOCAB_SIZE = 768;

/**
 * A BPE tokenizer learned with `trainBPE` from every caption phrasing of every spec of `split`
 * (default 'train', so the held-out pairs' captions are never seen; their words all are).
 */
export function shapesTokenizer(split: ShapesSplit = 'train'): CLIPTokenizer {
  const captions = allShapeSpecs(split).flatMap((spec) => captionsFor(spec));
  return new CLIPTokenizer(trainBPE(captions, { vocabSize: SHAPES_BPE_VOCAB_SIZE }));
}

/**
 * A small CLIP for 32 px synthetic shapes: two 64-wide, 2-layer towers (4 heads, MLP 256), 8 px
 * patches (16 patches and a class token), a 24-token context (the longest caption takes 17 with
 * the start and end tokens) and a 64-dim embedding space. The vocabulary is `tokenizer`'s.
 */
export function shapesCLIPConfig(tokenizer: CLIPTokenizer): CLIPConfigInput {
  return {
    text_config: {
      vocab_size: tokenizer.vocabSize,
      hidden_size: 64,
      intermediate_size: 256,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      max_position_embeddings: 24,
      eos_token_id: tokenizer.endId,
      bos_token_id: tokenizer.startId,
      pad_token_id: tokenizer.endId,
    },
    vision_config: {
      hidden_size: 64,
      intermediate_size: 256,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      image_size: SHAPES_IMAGE_SIZE,
      patch_size: 8,
    },
    projection_dim: 64,
  };
}
