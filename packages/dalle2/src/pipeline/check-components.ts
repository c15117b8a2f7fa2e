import type { CLIPModel } from '@dalle2js/clip';
import type { DiffusionPrior } from '@dalle2js/prior';
import type { Decoder } from '../decoder/decoder.js';

/**
 * Throws, naming both components and both sizes, unless the components fit together: CLIP's
 * embedding size is the prior's and every decoder's, text encodings fit the prior and the decoders
 * that read them, and each decoder after the first upsamples the one before it.
 */
export function checkComponents(clip: CLIPModel, prior: DiffusionPrior, decoders: readonly Decoder[]): void {
  const embedDim = clip.config.projection_dim;
  const { hidden_size: width } = clip.config.text_config;
  const context = clip.contextLength;
  if (prior.dim !== embedDim) {
    throw new Error(
      `the prior works on ${prior.dim}-d embeddings but CLIP's embeddings are ${embedDim}-d (projection_dim): they must be equal`,
    );
  }
  const { numTextTokens, textEncodingDim } = prior.config.network;
  if (numTextTokens > 0 && textEncodingDim !== width) {
    throw new Error(
      `the prior reads ${textEncodingDim}-wide text encodings but CLIP's text transformer is ${width} wide (text_config.hidden_size)`,
    );
  }
  if (numTextTokens > 0 && numTextTokens < context) {
    throw new Error(
      `the prior reads at most ${numTextTokens} text tokens (numTextTokens) but CLIP's context is ${context} (max_position_embeddings)`,
    );
  }
  if (decoders.length === 0) throw new Error('the pipeline needs at least one decoder');
  decoders.forEach((decoder, i) => {
    const name = `decoder ${i}`;
    const unet = decoder.config.unet;
    if (unet.imageEmbedDim !== embedDim) {
      throw new Error(
        `${name} is conditioned on ${unet.imageEmbedDim}-d image embeddings (unet.imageEmbedDim) but CLIP's embeddings are ${embedDim}-d (projection_dim)`,
      );
    }
    if (unet.channels !== 3)
      throw new Error(`${name} makes ${unet.channels}-channel images; the pipeline needs RGB (3)`);
    if (unet.textEmbedDim !== null && unet.textEmbedDim !== width) {
      throw new Error(
        `${name} reads ${unet.textEmbedDim}-wide text encodings (unet.textEmbedDim) but CLIP's text transformer is ${width} wide`,
      );
    }
    if (unet.textEmbedDim !== null && unet.maxTextLen < context) {
      throw new Error(
        `${name} reads at most ${unet.maxTextLen} text tokens (unet.maxTextLen) but CLIP's context is ${context}`,
      );
    }
    const previous = decoders[i - 1];
    if (previous === undefined) {
      if (unet.lowresCond)
        throw new Error(`${name} is an upsampler (unet.lowresCond) but it is the first stage`);
    } else {
      if (!unet.lowresCond) {
        throw new Error(`${name} follows another stage, so it must be an upsampler (unet.lowresCond true)`);
      }
      if (decoder.config.lowresImageSize !== previous.imageSize) {
        throw new Error(
          `${name} upsamples ${decoder.config.lowresImageSize}px images (lowresImageSize) but decoder ${i - 1} makes ${previous.imageSize}px images`,
        );
      }
    }
  });
}
