import { TorchGenerator } from '@dalle2js/core';
import { Dalle2, Decoder, loadDalle2 } from '@dalle2js/dalle2';
import { DiffusionPrior, priorPreset } from '@dalle2js/prior';
import { unetPreset } from '@dalle2js/unet';
import { DEFAULT_MODEL, seedCLIP } from './bench-models.js';
import type { Suite } from './suite.js';

const STEPS = 10;
const SIZE = 64;

export const generateSuite: Suite = {
  name: 'generate',
  description: `Dalle2.generate for one prompt: seed CLIP, small prior, one small ${SIZE} px decoder, ${STEPS} DDIM steps each; and the default model (models/shapes) with its own defaults`,
  measurements: [
    {
      name: `generate 1 prompt, ${SIZE}px, ${STEPS}+${STEPS} DDIM steps`,
      backends: ['wasm', 'cpu', 'webgpu'],
      batch: 1,
      reps: { wasm: 2, cpu: 1, webgpu: 1 },
      note: 'default guidance (prior 4, decoder 8): the networks run on 2 rows',
      prepare() {
        const rng = new TorchGenerator(0);
        const clip = seedCLIP(rng);
        const prior = new DiffusionPrior(priorPreset('small'), { rng });
        const decoder = new Decoder({ unet: unetPreset('small'), imageSize: SIZE }, { rng });
        const pipeline = new Dalle2({ clip, prior, decoders: [decoder] });
        return {
          step: async () => {
            const { images } = await pipeline.generate('a red circle on a white background', {
              seed: 1,
              priorSteps: STEPS,
              decoderSteps: STEPS,
              sampler: 'ddim',
            });
            await images.data();
            images.dispose();
          },
          dispose: () => pipeline.dispose(),
        };
      },
    },
    {
      name: 'generate 1 prompt with the default model (models/shapes), its defaults',
      backends: ['wasm', 'cpu', 'webgpu'],
      batch: 1,
      reps: { wasm: 3, cpu: 1, webgpu: 1 },
      note: 'what `pnpm dalle2 generate` runs after loading: 50 + 50 DDIM steps, guidance from the model config',
      async prepare() {
        const pipeline = await loadDalle2(DEFAULT_MODEL);
        return {
          step: async () => {
            const { images } = await pipeline.generate('a small red circle', { seed: 3 });
            await images.data();
            images.dispose();
          },
          dispose: () => pipeline.dispose(),
        };
      },
    },
  ],
};
