// Scores the default model's prior on the shapes data: mean cosine similarity of sampled image
// embeddings to the true CLIP image embeddings, against the two baselines of the DALL-E 2 paper
// (the text embedding itself; the mean training image embedding). Run after `pnpm build`:
//   node models/scripts/eval-prior.mjs [models/shapes] > models/logs/prior-eval.json
import { selectBackend, TorchGenerator } from '../../packages/core/dist/index.js';
import { encodePrompts, loadPipelineComponents } from '../../packages/dalle2/dist/index.js';
import { makeShapesDataset } from '../../packages/datasets/dist/index.js';
import { evaluatePrior } from '../../packages/prior/dist/index.js';

const dir = process.argv[2] ?? new URL('../shapes', import.meta.url).pathname;
await selectBackend('wasm');
const { clip, prior } = await loadPipelineComponents(dir, ['clip', 'prior']);
const size = clip.config.vision_config.image_size;
const withEncodings = prior.config.network.numTextTokens > 0;

async function embed(examples) {
  const captions = examples.map((e) => e.caption);
  const images = examples.map((e) => ({ ...e.image, channels: 3 }));
  const text = encodePrompts(clip, captions, { truncate: true });
  const pixels = clip.imageProcessor.preprocessImages(images);
  const imageEmbeds = clip.encodeImage(pixels);
  pixels.dispose();
  if (!withEncodings) {
    text.textEncodings.dispose();
    text.textMask.dispose();
  }
  return {
    textEmbeds: text.textEmbed,
    imageEmbeds,
    ...(withEncodings ? { textEncodings: text.textEncodings, textMask: text.textMask } : {}),
  };
}

const train = await embed(makeShapesDataset({ count: 500, imageSize: size, seed: 0, split: 'train' }));
const sets = {
  // Seen colour/shape pairs, new draws (another seed of the data set).
  seenPairs: makeShapesDataset({ count: 64, imageSize: size, seed: 1, split: 'train' }),
  // HELD_OUT_PAIRS: colour/shape pairs the training split never shows together.
  heldOutPairs: makeShapesDataset({ count: 64, imageSize: size, seed: 1, split: 'heldout' }),
};
const result = {};
for (const [name, examples] of Object.entries(sets)) {
  const batch = await embed(examples);
  for (const guidanceScale of [4]) {
    result[`${name}, guidance ${guidanceScale}`] = await evaluatePrior(prior, batch, {
      trainImageEmbeds: train.imageEmbeds,
      sampler: 'ddim',
      guidanceScale,
      generator: new TorchGenerator(0),
    });
  }
  for (const t of Object.values(batch)) t.dispose();
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
