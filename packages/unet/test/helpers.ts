import { TorchGenerator } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { UNet, type UNetCondition, type UNetConfigInput } from '../src/index.js';

/** A UNet with seeded weights, and every parameter moved off its initial value (so zero-initialised layers carry signal). */
export function randomUNet(config: UNetConfigInput, seed = 0, jitter = 0.1): UNet {
  const generator = new TorchGenerator(seed);
  const unet = new UNet(config, { rng: generator });
  for (const { variable } of unet.namedParameters().values()) {
    tf.tidy(() => variable.assign(tf.add(variable, tf.mul(generator.randnTensor(variable.shape), jitter))));
  }
  return unet;
}

/** Seeded inputs for `unet` at `size` px: x, integer timesteps and every conditioning the config takes. */
export function randomInputs(
  unet: UNet,
  batch: number,
  size: number,
  seed = 1,
): { x: tf.Tensor; timesteps: number[]; cond: UNetCondition } {
  const { channels, imageEmbedDim, textEmbedDim, lowresCond } = unet.config;
  const generator = new TorchGenerator(seed);
  const x = generator.randnTensor([batch, size, size, channels]);
  const timesteps = Array.from(generator.uniform(batch), (u) => Math.floor(u * 1000));
  const cond: UNetCondition = { imageEmbed: generator.randnTensor([batch, imageEmbedDim]) };
  if (textEmbedDim !== null) {
    cond.textEncodings = generator.randnTensor([batch, 3, textEmbedDim]);
    // The second row pads its last token.
    cond.textMask = tf.tensor2d(
      Array.from({ length: batch }, (_, b) => [1, 1, b === 1 ? 0 : 1]),
      [batch, 3],
    );
  }
  if (lowresCond) cond.lowresImage = generator.randnTensor([batch, size / 2, size / 2, channels]);
  return { x, timesteps, cond };
}

export function disposeInputs(inputs: { x: tf.Tensor; cond: UNetCondition }): void {
  const { imageEmbed, textEncodings, textMask, lowresImage } = inputs.cond;
  tf.dispose([
    inputs.x,
    imageEmbed,
    ...[textEncodings, textMask, lowresImage].filter((t) => t !== undefined),
  ]);
}

export async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const [value] = await diff.data();
  diff.dispose();
  return value ?? Number.NaN;
}
