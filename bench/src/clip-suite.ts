import { TorchGenerator } from '@dalle2js/core';
import { PROMPTS, seedCLIP } from './bench-models.js';
import type { Suite } from './suite.js';

const IMAGES = 4;

export const clipSuite: Suite = {
  name: 'clip',
  description: `CLIP seed preset: text embeddings of ${PROMPTS.length} prompts, image embeddings of ${IMAGES} 256 px images`,
  measurements: [
    {
      name: `CLIP seed text encoding, ${PROMPTS.length} prompts`,
      backends: ['wasm', 'cpu', 'webgpu'],
      batch: PROMPTS.length,
      reps: { wasm: 5, cpu: 1, webgpu: 5 },
      note: 'tokenizing included; prompts padded to the longest',
      prepare() {
        const clip = seedCLIP(new TorchGenerator(0));
        return {
          step: async () => {
            const embeds = clip.encodeText(PROMPTS);
            await embeds.data();
            embeds.dispose();
          },
          dispose: () => clip.dispose(),
        };
      },
    },
    {
      name: `CLIP seed image encoding, ${IMAGES} images 256px`,
      backends: ['wasm', 'cpu', 'webgpu'],
      batch: IMAGES,
      reps: { wasm: 5, cpu: 1, webgpu: 5 },
      note: 'preprocessed images in, embeddings out',
      prepare() {
        const generator = new TorchGenerator(0);
        const clip = seedCLIP(generator);
        const size = clip.config.vision_config.image_size;
        const images = generator.randnTensor([IMAGES, size, size, 3]);
        return {
          step: async () => {
            const embeds = clip.encodeImage(images);
            await embeds.data();
            embeds.dispose();
          },
          dispose: () => {
            clip.dispose();
            images.dispose();
          },
        };
      },
    },
  ],
};
