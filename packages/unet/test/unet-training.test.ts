import { AdamW, imagesToTensor, selectBackend, TorchGenerator, trainStep } from '@dalle2js/core';
import { renderShape, type ShapeSpec } from '@dalle2js/datasets';
import {
  addNoise,
  DDIMScheduler,
  diffusionLoss,
  getTarget,
  NoiseSchedule,
  sample,
} from '@dalle2js/diffusion';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { UNet, unetPreset } from '../src/index.js';

// The cpu backend's conv filter gradient takes tens of seconds per step here; wasm (with core's
// gradient overrides) trains the same model in well under a second.
beforeAll(async () => {
  await selectBackend('wasm');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

const SIZE = 16;
const STEPS = 200;
const REPEATS = 2; // each image appears twice per batch, with its own noise and timestep

/** A handful of shapes images: each shape, colour and background differs from the others'. */
const SHAPES: ShapeSpec[] = [
  { shape: 'circle', colour: 'red', size: 'large', position: 'center', background: 'black' },
  { shape: 'square', colour: 'green', size: 'large', position: 'center', background: 'white' },
  { shape: 'triangle', colour: 'blue', size: 'large', position: 'center', background: 'gray' },
  { shape: 'cross', colour: 'yellow', size: 'large', position: 'center', background: 'black' },
];

/** The small preset as is, but for the embedding size (random 32-d stand-ins for CLIP's). */
const CONFIG = unetPreset('small', { imageEmbedDim: 32 });
test('the small preset overfits four shapes images conditioned on random image embeddings, and DDIM samples them back', async () => {
  const generator = new TorchGenerator(0);
  const unet = new UNet(CONFIG, { rng: generator });
  const images = imagesToTensor(SHAPES.map((spec) => ({ ...renderShape(spec, SIZE), channels: 3 }))); // [4, 16, 16, 3]
  const imageEmbed = generator.randnTensor([SHAPES.length, 32]); // fixed random "CLIP" embeddings
  const batchImages = tf.concat(new Array<tf.Tensor>(REPEATS).fill(images), 0); // [8, 16, 16, 3]
  const batchEmbed = tf.concat(new Array<tf.Tensor>(REPEATS).fill(imageEmbed), 0); // [8, 32]
  const batch = batchImages.shape[0] as number;
  const T = 1000;
  const schedule = new NoiseSchedule({ betaSchedule: 'cosine', numTrainTimesteps: T });
  const optimizer = new AdamW(unet, { lr: 1e-3, weightDecay: 0 });
  const losses: number[] = [];
  try {
    for (let step = 0; step < STEPS; step++) {
      // Uniform timesteps per row (slices by row position would give each image its own noise levels).
      const t = Array.from(generator.uniform(batch), (u) => Math.floor(u * T));
      const noise = generator.randnTensor(batchImages.shape);
      const loss = await trainStep(
        unet,
        () => {
          const noised = addNoise(schedule, batchImages, noise, t);
          // Always conditioned: guided sampling from a few hundred steps amplifies the errors of a
          // barely trained unconditional model (guidance has its own tests). v-prediction: its x0
          // estimate at nearly pure noise is the image itself, so the embedding must decide it.
          const predicted = unet.apply(noised, t, { imageEmbed: batchEmbed });
          return diffusionLoss(predicted, getTarget(schedule, 'v_prediction', batchImages, noise, t));
        },
        optimizer,
      );
      noise.dispose();
      losses.push(loss);
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const start = mean(losses.slice(0, 10));
    const end = mean(losses.slice(-50)); // random timesteps make single steps noisy
    console.log(`training loss ${start.toFixed(4)} -> ${end.toFixed(4)} in ${STEPS} steps`);

    const scheduler = new DDIMScheduler({
      betaSchedule: 'cosine',
      numTrainTimesteps: T,
      predictionType: 'v_prediction',
    });
    scheduler.setTimesteps(25);
    const samples = await sample({
      scheduler,
      model: (xt, timestep, embed: tf.Tensor) => unet.apply(xt, timestep, { imageEmbed: embed }),
      shape: [SHAPES.length, SIZE, SIZE, 3],
      generator: new TorchGenerator(1),
      cond: imageEmbed,
    });
    const sampled = tf.tidy(() => tf.mean(tf.clipByValue(samples, -1, 1), [1, 2])); // [2, 3]
    const expected = tf.tidy(() => tf.mean(images, [1, 2])); // [2, 3]
    const sampledColours = (await sampled.array()) as number[][];
    const expectedColours = (await expected.array()) as number[][];
    const errors = sampledColours.flatMap((row, n) =>
      row.map((value, c) => Math.abs(value - expectedColours[n]![c]!)),
    );
    console.log(
      `sampled mean colours ${JSON.stringify(sampledColours)}, expected ${JSON.stringify(expectedColours)}, max error ${Math.max(...errors).toFixed(3)}`,
    );
    // The embedding decides the colour: each sample's mean is nearest its own image's (images 0
    // and 3 share a black background, 0.26 apart), and close to it (0.124 measured).
    const distance = (a: number[], b: number[]) => Math.hypot(...a.map((value, c) => value - b[c]!));
    for (const [n, colour] of sampledColours.entries()) {
      const own = distance(colour, expectedColours[n]!);
      const others = expectedColours.filter((_, m) => m !== n).map((other) => distance(colour, other));
      expect(own).toBeLessThan(Math.min(...others));
    }
    expect(Math.max(...errors)).toBeLessThan(0.2);
    expect(end).toBeLessThan(0.25 * start); // 0.16 measured
    tf.dispose([samples, sampled, expected]);
  } finally {
    tf.dispose([images, imageEmbed, batchImages, batchEmbed]);
    optimizer.dispose();
    unet.dispose();
  }
});
