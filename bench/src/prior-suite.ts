import { TorchGenerator } from '@dalle2js/core';
import { DiffusionPrior, priorPreset } from '@dalle2js/prior';
import * as tf from '@tensorflow/tfjs-core';
import type { Suite } from './suite.js';

const STEPS = 10;
const TEXT_TOKENS = 12;

export const priorSuite: Suite = {
  name: 'prior',
  description: `one prior sampling run: small preset, 1 prompt, ${STEPS} DDIM steps, guidance 4`,
  measurements: [
    {
      name: `prior small sampling, 1 prompt, ${STEPS} DDIM steps`,
      backends: ['wasm', 'cpu', 'webgpu'],
      batch: 1,
      reps: { wasm: 3, cpu: 1, webgpu: 2 },
      note: `random ${TEXT_TOKENS}-token text encodings; guidance doubles the batch`,
      prepare() {
        const generator = new TorchGenerator(0);
        const prior = new DiffusionPrior(priorPreset('small'), { rng: generator });
        const { textEncodingDim } = prior.config.network;
        const textEmbed = tf.tidy(() => {
          const raw = generator.randnTensor([1, prior.dim]);
          return tf.div(raw, tf.norm(raw, 'euclidean', -1, true));
        });
        const textEncodings = generator.randnTensor([1, TEXT_TOKENS, textEncodingDim]);
        const textMask = tf.ones([1, TEXT_TOKENS]);
        return {
          step: async () => {
            const embeds = await prior.sample(textEmbed, {
              textEncodings,
              textMask,
              steps: STEPS,
              sampler: 'ddim',
              guidanceScale: 4,
              generator: new TorchGenerator(1),
            });
            await embeds.data();
            embeds.dispose();
          },
          dispose: () => {
            prior.dispose();
            tf.dispose([textEmbed, textEncodings, textMask]);
          },
        };
      },
    },
  ],
};
