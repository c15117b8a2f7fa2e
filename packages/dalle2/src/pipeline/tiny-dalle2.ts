import { CLIPModel, CLIPTokenizer, trainBPE } from '@dalle2js/clip';
import { TorchGenerator } from '@dalle2js/core';
import { allShapeSpecs, captionsFor } from '@dalle2js/datasets';
import { DiffusionPrior } from '@dalle2js/prior';
import type { UNetConfigInput } from '@dalle2js/unet';
import { Decoder } from '../decoder/decoder.js';
import { Dalle2 } from './dalle2.js';

/** Tokens per prompt, start and end included. */
const CONTEXT = 16;
/** CLIP's embedding size, which the prior and the decoders share. */
const EMBED = 32;

/**
 * A tiny **untrained** pipeline, the same on every call for a given seed: a BPE vocabulary learned
 * from the shapes captions (`@dalle2js/datasets`), a small CLIP, a prior, and a 16 px decoder with
 * a 32 px upsampler, each with 10 diffusion timesteps. Its weights are random, so its images are
 * noise: it shows that every stage runs (smoke tests, examples without a trained model), not what
 * a trained model draws. It builds in well under a second and generates 32 px images in a few.
 *
 * ```ts
 * const pipeline = tinyDalle2(0);
 * const { images } = await pipeline.generate('a red circle', { seed: 1 });
 * images.dispose();
 * pipeline.dispose();
 * ```
 *
 * @param seed Seeds the weights of every component (one generator, drawn from in a fixed order).
 * @returns A pipeline the caller owns (`dispose()` it).
 */
export function tinyDalle2(seed = 0): Dalle2 {
  const captions = allShapeSpecs('all').flatMap((spec) => captionsFor(spec));
  const tokenizer = new CLIPTokenizer(trainBPE(captions, { vocabSize: 600 }));
  const rng = new TorchGenerator(seed);
  const clip = new CLIPModel(
    {
      text_config: {
        vocab_size: tokenizer.vocabSize,
        hidden_size: 32,
        intermediate_size: 64,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        max_position_embeddings: CONTEXT,
        eos_token_id: tokenizer.endId,
        bos_token_id: tokenizer.startId,
        pad_token_id: tokenizer.endId,
      },
      vision_config: {
        hidden_size: 32,
        intermediate_size: 64,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        image_size: 16,
        patch_size: 8,
      },
      projection_dim: EMBED,
    },
    { rng, tokenizer },
  );
  const prior = new DiffusionPrior(
    {
      network: { dim: EMBED, depth: 2, heads: 2, numTextTokens: CONTEXT, textEncodingDim: 32, mlpRatio: 2 },
      numTrainTimesteps: 10,
    },
    { rng },
  );
  const unet: UNetConfigInput = {
    dim: 8,
    dimMults: [1, 2],
    numResnetBlocks: 1,
    imageEmbedDim: EMBED,
    numImageTokens: 2,
    selfAttention: [false, false],
    crossAttention: [false, true],
    midAttention: false,
    attentionHeadDim: 8,
    normGroups: 4,
  };
  const decoder = new Decoder({ unet, imageSize: 16, numTrainTimesteps: 10 }, { rng });
  const upsampler = new Decoder(
    { unet: { ...unet, lowresCond: true }, imageSize: 32, lowresImageSize: 16, numTrainTimesteps: 10 },
    { rng },
  );
  return new Dalle2({ clip, prior, decoders: [decoder, upsampler] });
}
