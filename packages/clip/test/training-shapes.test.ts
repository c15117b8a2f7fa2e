import { manualSeed, selectBackend } from '@dalle2js/core';
import { makeShapesDataset } from '@dalle2js/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIPModel } from '../src/clip-model.js';
import {
  CLIPTrainer,
  captionAttributes,
  captionMatchesSpec,
  evaluateRetrieval,
  SHAPES_IMAGE_SIZE,
  shapesCLIPConfig,
  shapesTokenizer,
} from '../src/training/index.js';

// A short version of `pnpm train:shapes` (see the README): the same model and data, far fewer
// steps. wasm, since the cpu backend's embedding gradient alone takes about a second per step.
beforeAll(async () => {
  await selectBackend('wasm', { wasmThreads: 1 });
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('training CLIP on synthetic shapes', () => {
  it('lowers the loss and retrieves unseen images well above chance', async () => {
    const tokenizer = shapesTokenizer();
    manualSeed(0);
    const model = new CLIPModel(shapesCLIPConfig(tokenizer), { tokenizer });
    const train = makeShapesDataset({ count: 2000, imageSize: SHAPES_IMAGE_SIZE, seed: 0, split: 'train' });
    const named = train.map((example) => captionAttributes(example.caption));
    const unseen = makeShapesDataset({ count: 256, imageSize: SHAPES_IMAGE_SIZE, seed: 1, split: 'train' });
    const trainer = new CLIPTrainer(
      model,
      train,
      { steps: 80, batchSize: 64, learningRate: 2e-3, warmupSteps: 10 },
      {
        progress: false,
        matches: (text, image) => captionMatchesSpec(named[text]!, train[image]!.spec),
      },
    );
    try {
      const before = await evaluateRetrieval(model, unseen);
      const { losses } = await trainer.train();
      const after = await evaluateRetrieval(model, unseen);
      const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

      // ln(64) = 4.16 for a model that cannot tell the pairs apart.
      expect(mean(losses.slice(0, 10))).toBeGreaterThan(3.6);
      expect(mean(losses.slice(-20))).toBeLessThan(mean(losses.slice(0, 10)) - 1);
      // Chance is about 2%: a caption names 2 to 5 of the attributes of 600 specs.
      expect(after.textToImageChance).toBeLessThan(0.05);
      expect(before.textToImage).toBeLessThan(3 * before.textToImageChance + 0.02);
      expect(after.textToImage).toBeGreaterThan(5 * after.textToImageChance);
      expect(after.imageToText).toBeGreaterThan(5 * after.imageToTextChance);
    } finally {
      trainer.dispose();
      model.dispose();
    }
  }, 900_000);
});
