import { CLIPModel, CLIPTokenizer, trainBPE } from '@dalle2js/clip';
import { TorchGenerator } from '@dalle2js/core';
import { allShapeSpecs, captionsFor } from '@dalle2js/datasets';
import { DiffusionPrior, type DiffusionPriorConfig } from '@dalle2js/prior';
import { Dalle2, Decoder, type DecoderConfig } from '../src/index.js';

/** A BPE vocabulary learned from the shapes captions: small, and it needs no fixture. */
export function tinyTokenizer(): CLIPTokenizer {
  const captions = allShapeSpecs('all').flatMap((spec) => captionsFor(spec));
  return new CLIPTokenizer(trainBPE(captions, { vocabSize: 600 }));
}

export const CONTEXT = 12;

export function tinyClip(seed = 1, tokenizer = tinyTokenizer(), projection = 8): CLIPModel {
  return new CLIPModel(
    {
      text_config: {
        vocab_size: tokenizer.vocabSize,
        hidden_size: 16,
        intermediate_size: 32,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        max_position_embeddings: CONTEXT,
        eos_token_id: tokenizer.endId,
        bos_token_id: tokenizer.startId,
        pad_token_id: tokenizer.endId,
      },
      vision_config: {
        hidden_size: 12,
        intermediate_size: 24,
        num_hidden_layers: 1,
        num_attention_heads: 3,
        image_size: 8,
        patch_size: 4,
      },
      projection_dim: projection,
    },
    { rng: new TorchGenerator(seed), tokenizer },
  );
}

export function tinyPriorConfig(dim = 8): Partial<DiffusionPriorConfig> {
  return {
    network: { dim, depth: 1, heads: 2, numTextTokens: CONTEXT, textEncodingDim: 16, mlpRatio: 2 },
    numTrainTimesteps: 10,
  };
}

export function tinyDecoderConfig(imageEmbedDim = 8): Partial<DecoderConfig> {
  return {
    unet: {
      dim: 8,
      dimMults: [1, 2],
      numResnetBlocks: 1,
      imageEmbedDim,
      numImageTokens: 2,
      selfAttention: [false, false],
      crossAttention: [false, true],
      midAttention: false,
      attentionHeadDim: 8,
      normGroups: 4,
    },
    imageSize: 8,
    numTrainTimesteps: 10,
  };
}

export function tinyUpsamplerConfig(imageEmbedDim = 8): Partial<DecoderConfig> {
  const base = tinyDecoderConfig(imageEmbedDim);
  return { ...base, unet: { ...base.unet, lowresCond: true }, imageSize: 16, lowresImageSize: 8 };
}

/** A random tiny pipeline: 8-d embeddings, a 12-token context, 8 px images (16 px with `upsampler`). */
export function tinyPipeline(seed = 1, options: { upsampler?: boolean } = {}): Dalle2 {
  const rng = new TorchGenerator(seed);
  const decoders = [new Decoder(tinyDecoderConfig(), { rng })];
  if (options.upsampler) decoders.push(new Decoder(tinyUpsamplerConfig(), { rng }));
  return new Dalle2({
    clip: tinyClip(seed),
    prior: new DiffusionPrior(tinyPriorConfig(), { rng }),
    decoders,
  });
}
