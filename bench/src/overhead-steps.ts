import { type AdamW, clipCoefficient, EMA } from '@dalle2js/core';
import type { UNet } from '@dalle2js/unet';
import * as tf from '@tensorflow/tfjs-core';

/** The calls whose CPU share the overhead measurements time; each returns its tensors unread. */
export interface OverheadSteps {
  /** A training step's gradients. */
  forwardBackward: () => tf.Tensor[];
  /** Gradients, clipping to norm 1, AdamW and an EMA update, as dalle2's trainers run them. */
  trainerStep: () => tf.Tensor[];
  /** One guided sampling step of the first image (2 rows). */
  guidedStep: () => tf.Tensor[];
  dispose(): void;
}

export interface OverheadInputs {
  x: tf.Tensor;
  timesteps: number[];
  imageEmbed: tf.Tensor;
  /** The training loss of `unet` on these inputs. */
  loss: () => tf.Scalar;
  optimizer: AdamW;
  guidance: number;
}

export function overheadSteps(
  unet: UNet,
  { x, timesteps, imageEmbed, loss, optimizer, guidance }: OverheadInputs,
): OverheadSteps {
  const first = tf.slice(x, [0, 0, 0, 0], [1, -1, -1, -1]);
  const cond = tf.slice(imageEmbed, [0, 0], [1, -1]);
  const ema = new EMA(unet, { decay: 0.999 });
  const gradients = () => tf.variableGrads(loss, unet.trainableVariables());
  return {
    forwardBackward: () => {
      const { value, grads } = gradients();
      return [value, ...Object.values(grads)];
    },
    trainerStep: () => {
      const { value, grads } = gradients();
      const { coefficient, totalNorm } = clipCoefficient(grads, 1);
      optimizer.step(grads, { gradScale: coefficient });
      ema.update();
      tf.dispose([...Object.values(grads), coefficient, totalNorm]);
      return [value];
    },
    guidedStep: () => [unet.forwardWithGuidance(first, [timesteps[0]!], { imageEmbed: cond }, guidance)],
    dispose: () => {
      ema.dispose();
      tf.dispose([first, cond]);
    },
  };
}
