import type { TorchGenerator } from '@dalle2js/core';
import type { UNet } from '@dalle2js/unet';
import * as tf from '@tensorflow/tfjs-core';

/** Seeded inputs of a U-Net training step, and its loss, as the U-Net measurements use them. */
export interface UNetInputs {
  /** [B, S, S, channels] */
  x: tf.Tensor;
  noise: tf.Tensor;
  /** [B, imageEmbedDim] */
  imageEmbed: tf.Tensor;
  /** 100, 300, 500, ... */
  timesteps: number[];
  /** The epsilon loss, mean((unet(x, t) - noise)²). */
  loss: () => tf.Scalar;
  dispose(): void;
}

/** x, noise and imageEmbed drawn from `rng` in that order. */
export function unetInputs(unet: UNet, rng: TorchGenerator, batch: number, size: number): UNetInputs {
  const x = rng.randnTensor([batch, size, size, unet.config.channels]);
  const noise = rng.randnTensor(x.shape);
  const imageEmbed = rng.randnTensor([batch, unet.config.imageEmbedDim]);
  const timesteps = Array.from({ length: batch }, (_, i) => 100 + 200 * i);
  return {
    x,
    noise,
    imageEmbed,
    timesteps,
    loss: () => tf.mean(tf.square(tf.sub(unet.apply(x, timesteps, { imageEmbed }), noise))) as tf.Scalar,
    dispose: () => tf.dispose([x, noise, imageEmbed]),
  };
}
