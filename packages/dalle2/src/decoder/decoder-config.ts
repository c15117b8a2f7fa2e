import { gridImageSize, resolveUNetConfig, type UNetConfig, type UNetConfigInput } from '@dalle2js/unet';

/** What the decoder's network is trained to predict. */
export type DecoderPrediction = 'epsilon' | 'sample' | 'v_prediction';
export const DECODER_PREDICTIONS: readonly DecoderPrediction[] = ['epsilon', 'sample', 'v_prediction'];

export type DecoderBetaSchedule = 'cosine' | 'linear';
export const DECODER_BETA_SCHEDULES: readonly DecoderBetaSchedule[] = ['cosine', 'linear'];

/**
 * One stage of the DALL-E 2 decoder cascade: a U-Net that denoises images of `imageSize` pixels,
 * conditioned on a CLIP image embedding and, for an upsampler (`unet.lowresCond`), on the previous
 * stage's image of `lowresImageSize` pixels. Plain JSON.
 */
export interface DecoderConfig {
  /** The U-Net; see `UNetConfig` for its defaults. */
  unet: UNetConfigInput;
  /** Side of the square images this stage makes. Default 64. */
  imageSize: number;
  /** Side of the previous stage's images, for an upsampler; null for the first stage. Default null. */
  lowresImageSize: number | null;
  /** Training diffusion steps T. Default 1000. */
  numTrainTimesteps: number;
  /** Default 'cosine' (the DALL-E 2 decoders). */
  betaSchedule: DecoderBetaSchedule;
  /** Default 'epsilon'. */
  prediction: DecoderPrediction;
  /** Probability of training a row with the null conditioning, for classifier-free guidance. Default 0.1. */
  condDropProb: number;
}

export interface ResolvedDecoderConfig extends Omit<DecoderConfig, 'unet'> {
  unet: UNetConfig;
}

export const defaultDecoderConfig: Readonly<Omit<DecoderConfig, 'unet'>> = Object.freeze({
  imageSize: 64,
  lowresImageSize: null,
  numTrainTimesteps: 1000,
  betaSchedule: 'cosine',
  prediction: 'epsilon',
  condDropProb: 0.1,
});

const KNOWN = ['unet', ...Object.keys(defaultDecoderConfig)];

/** Fills in the defaults and checks every field once; errors name the field and the valid values. */
export function resolveDecoderConfig(
  config: Partial<DecoderConfig> | ResolvedDecoderConfig = {},
): ResolvedDecoderConfig {
  for (const key of Object.keys(config)) {
    if (!KNOWN.includes(key))
      throw new Error(`Decoder: unknown config field "${key}"; valid: ${KNOWN.join(', ')}`);
  }
  let unet: UNetConfig;
  try {
    unet = resolveUNetConfig(config.unet ?? {});
  } catch (error) {
    throw new Error(`Decoder: field "unet": ${(error as Error).message}`, { cause: error });
  }
  const resolved: ResolvedDecoderConfig = { ...defaultDecoderConfig, ...config, unet };
  const { imageSize, lowresImageSize, numTrainTimesteps, betaSchedule, prediction, condDropProb } = resolved;
  const multiple = 2 ** (unet.dimMults.length - 1);
  if (!Number.isInteger(imageSize) || imageSize < 1 || imageSize % multiple !== 0) {
    throw new Error(
      `Decoder: field "imageSize" must be a positive multiple of ${multiple} (2^(levels - 1) of the U-Net), got ${imageSize}`,
    );
  }
  const gridSize = gridImageSize(resolved.unet);
  if (gridSize !== null && imageSize !== gridSize) {
    throw new Error(
      `Decoder: field "imageSize" must be ${gridSize} for unet.imageEmbedGrid ${resolved.unet.imageEmbedGrid} (grid x 2^(levels - 1)), got ${imageSize}`,
    );
  }
  if (unet.lowresCond) {
    if (
      lowresImageSize === null ||
      !Number.isInteger(lowresImageSize) ||
      lowresImageSize < 1 ||
      lowresImageSize >= imageSize ||
      imageSize % lowresImageSize !== 0
    ) {
      throw new Error(
        `Decoder: field "lowresImageSize" must divide imageSize (${imageSize}) and be smaller, for an upsampler (unet.lowresCond), got ${lowresImageSize}`,
      );
    }
  } else if (lowresImageSize !== null) {
    throw new Error(
      `Decoder: field "lowresImageSize" must be null unless unet.lowresCond is true, got ${lowresImageSize}`,
    );
  }
  if (!Number.isInteger(numTrainTimesteps) || numTrainTimesteps < 2) {
    throw new Error(`Decoder: field "numTrainTimesteps" must be an integer >= 2, got ${numTrainTimesteps}`);
  }
  if (!DECODER_BETA_SCHEDULES.includes(betaSchedule)) {
    throw new Error(
      `Decoder: field "betaSchedule" is "${betaSchedule}"; valid: ${DECODER_BETA_SCHEDULES.join(', ')}`,
    );
  }
  if (!DECODER_PREDICTIONS.includes(prediction)) {
    throw new Error(
      `Decoder: field "prediction" is "${prediction}"; valid: ${DECODER_PREDICTIONS.join(', ')}`,
    );
  }
  if (!(condDropProb >= 0 && condDropProb < 1)) {
    throw new Error(`Decoder: field "condDropProb" must be in [0, 1), got ${condDropProb}`);
  }
  return resolved;
}
