import type { CLIPModel } from '@dalle2js/clip';
import { defaultGenerator, encodePng, type RawImage, TorchGenerator, tensorToImages } from '@dalle2js/core';
import type { DiffusionPrior } from '@dalle2js/prior';
import * as tf from '@tensorflow/tfjs-core';
import type { Decoder } from '../decoder/decoder.js';
import { checkComponents } from './check-components.js';
import {
  checkSamplingDefaults,
  type GenerateOptions,
  type ResolvedGenerateOptions,
  resolveGenerateOptions,
  type SamplingDefaults,
  withSamplingDefaults,
} from './generate-options.js';
import { encodePrompts, repeatRows, type TextConditioning } from './text-conditioning.js';

/** The components a pipeline is built from; the pipeline takes ownership (see `dispose`). */
export interface Dalle2Components {
  /** Text and image encoder; it needs a tokenizer. */
  clip: CLIPModel;
  /** Text embedding -> image embedding. */
  prior: DiffusionPrior;
  /** The decoder cascade: the first makes images from noise, each later one upsamples the one before. */
  decoders: readonly Decoder[];
  /** Guidance to use where `generate` and `variations` are not told; saved with the pipeline. */
  sampling?: SamplingDefaults;
}

/** What `generate` and `variations` resolve to. */
export interface Dalle2Images {
  /** [N, S, S, 3] in [-1, 1], prompt-major (all images of prompt 0 first); the caller owns it. */
  images: tf.Tensor4D;
  /** The same images as PNG files. */
  png: Uint8Array[];
}

/** An image for `variations`: a tensor [H, W, C] or [B, H, W, C] in [-1, 1], a decoded image, or PNG bytes. */
export type Dalle2ImageInput = tf.Tensor | RawImage | Uint8Array;

/**
 * DALL-E 2 (unCLIP) text-to-image, built from the components it is given: CLIP encodes the
 * prompt, the prior turns CLIP's text embedding into an image embedding, and the decoder cascade
 * draws an image from noise conditioned on it.
 */
export class Dalle2 {
  readonly clip: CLIPModel;
  readonly prior: DiffusionPrior;
  readonly decoders: readonly Decoder[];
  readonly sampling: Readonly<SamplingDefaults>;

  constructor(components: Dalle2Components) {
    const { clip, prior, decoders, sampling = {} } = components;
    checkComponents(clip, prior, decoders);
    checkSamplingDefaults(sampling);
    this.clip = clip;
    this.prior = prior;
    this.decoders = [...decoders];
    this.sampling = Object.freeze({ ...sampling });
  }

  /** `options` with this pipeline's sampling defaults filled in, checked for its decoder stages. */
  private resolveOptions(options: GenerateOptions): ResolvedGenerateOptions {
    return resolveGenerateOptions(withSamplingDefaults(options, this.sampling), this.decoders.length);
  }

  /** Side of the images the last decoder makes. */
  get imageSize(): number {
    return this.decoders[this.decoders.length - 1]!.imageSize;
  }

  /** Images for each prompt: `imagesPerPrompt` of each, prompt-major. */
  async generate(prompts: string | readonly string[], options: GenerateOptions = {}): Promise<Dalle2Images> {
    const list = typeof prompts === 'string' ? [prompts] : [...prompts];
    const resolved = this.resolveOptions(options);
    resolved.signal?.throwIfAborted();
    const generator = generatorFor(resolved);
    const text = encodePrompts(this.clip, list);
    let repeated: TextConditioning | undefined;
    let imageEmbed: tf.Tensor | undefined;
    try {
      const k = resolved.imagesPerPrompt;
      repeated = {
        textEmbed: repeatRows(text.textEmbed, k),
        textEncodings: repeatRows(text.textEncodings, k),
        textMask: repeatRows(text.textMask, k),
      };
      const readsText = this.prior.config.network.numTextTokens > 0;
      imageEmbed = await this.prior.sample(repeated.textEmbed, {
        ...(readsText ? { textEncodings: repeated.textEncodings, textMask: repeated.textMask } : {}),
        ...(resolved.priorSteps === undefined ? {} : { steps: resolved.priorSteps }),
        sampler: resolved.sampler,
        guidanceScale: resolved.priorGuidance,
        generator,
        onProgress: (step, total) => resolved.onProgress?.('prior', step, total),
        signal: resolved.signal,
      }); // [N, D]
      return await this.decode(imageEmbed, repeated, resolved, generator);
    } finally {
      tf.dispose([text.textEmbed, text.textEncodings, text.textMask]);
      if (repeated) tf.dispose([repeated.textEmbed, repeated.textEncodings, repeated.textMask]);
      imageEmbed?.dispose();
    }
  }

  /**
   * New images from the CLIP image embedding of each given image (no prior, no text):
   * `imagesPerPrompt` per input image. The input is not disposed.
   */
  async variations(
    image: Dalle2ImageInput | readonly RawImage[],
    options: GenerateOptions = {},
  ): Promise<Dalle2Images> {
    const resolved = this.resolveOptions(options);
    resolved.signal?.throwIfAborted();
    const generator = generatorFor(resolved);
    const pixels = this.preprocess(image); // [B, S, S, 3]
    let imageEmbed: tf.Tensor | undefined;
    try {
      imageEmbed = tf.tidy(() => repeatRows(this.clip.encodeImage(pixels), resolved.imagesPerPrompt)); // [N, D]
      return await this.decode(imageEmbed, undefined, resolved, generator);
    } finally {
      pixels.dispose();
      imageEmbed?.dispose();
    }
  }

  /** Disposes every component. */
  dispose(): void {
    this.clip.dispose();
    this.prior.dispose();
    for (const decoder of this.decoders) decoder.dispose();
  }

  private preprocess(image: Dalle2ImageInput | readonly RawImage[]): tf.Tensor4D {
    const processor = this.clip.imageProcessor;
    if (image instanceof tf.Tensor) return processor.preprocessTensor(image, { valueRange: [-1, 1] });
    if (image instanceof Uint8Array) return processor.preprocessPng(image);
    return processor.preprocessImages(image as RawImage | readonly RawImage[]);
  }

  /** Runs the decoder cascade on image embeddings [N, D]; `text` is repeated like the embeddings. */
  private async decode(
    imageEmbed: tf.Tensor,
    text: TextConditioning | undefined,
    options: ResolvedGenerateOptions,
    generator: TorchGenerator,
  ): Promise<Dalle2Images> {
    let image: tf.Tensor4D | undefined;
    try {
      for (const [i, decoder] of this.decoders.entries()) {
        const readsText = text !== undefined && decoder.config.unet.textEmbedDim !== null;
        const steps = options.decoderSteps[i];
        const next = await decoder.sample(imageEmbed, {
          ...(image === undefined ? {} : { lowresImage: image }),
          ...(readsText ? { textEncodings: text.textEncodings, textMask: text.textMask } : {}),
          ...(steps === undefined ? {} : { steps }),
          sampler: options.sampler,
          guidanceScale: options.decoderGuidance,
          generator,
          onProgress: (step, total) => options.onProgress?.(`decoder ${i}`, step, total),
          signal: options.signal,
        }); // [N, S_i, S_i, 3]
        image?.dispose();
        image = next;
      }
      const result = image!;
      const png = (await tensorToImages(result)).map((raw) => encodePng(raw));
      image = undefined;
      return { images: result, png };
    } finally {
      image?.dispose();
    }
  }
}

function generatorFor(options: ResolvedGenerateOptions): TorchGenerator {
  return options.seed === undefined ? defaultGenerator() : new TorchGenerator(options.seed);
}
