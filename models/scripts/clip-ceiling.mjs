// How well a CLIP, and the pixel checker, read clean renderings of every shapes spec (32 px) as
// `dalle2 eval` reads generated images: each image against the 24 prompts `a <colour> <shape>`.
// This is the ceiling of eval's scores for a generator that draws every prompt perfectly, and for
// a pipeline's own CLIP it says whether its image embeddings carry colour and shape at all.
// Run after `pnpm build`:
//   node models/scripts/clip-ceiling.mjs models/eval-clip models/shapes > models/logs/clip-ceiling.json
// A folder is either a Hugging Face CLIP folder or a pipeline folder (its CLIP is used).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadCLIP } from '../../packages/clip/dist/index.js';
import { selectBackend } from '../../packages/core/dist/index.js';
import { loadPipelineComponents } from '../../packages/dalle2/dist/index.js';
import {
  allShapeSpecs,
  classifyShapeImage,
  isHeldOutPair,
  renderShape,
  SHAPE_COLOUR_NAMES,
  SHAPE_KINDS,
} from '../../packages/datasets/dist/index.js';

const IMAGE_SIZE = 32;
const folders = process.argv.slice(2);
if (folders.length === 0) {
  console.error('usage: node models/scripts/clip-ceiling.mjs CLIP_OR_PIPELINE_DIR [...]');
  process.exit(2);
}
await selectBackend('wasm');

const prompts = SHAPE_KINDS.flatMap((shape) =>
  SHAPE_COLOUR_NAMES.map((colour) => ({ prompt: `a ${colour} ${shape}`, colour, shape })),
);
const specs = allShapeSpecs('all');
const images = specs.map((spec) => ({ ...renderShape(spec, IMAGE_SIZE), channels: 3 }));

function tally(readings) {
  const groups = { all: [], seen: [], heldOut: [] };
  specs.forEach((spec, i) => {
    groups.all.push(i);
    groups[isHeldOutPair(spec.colour, spec.shape) ? 'heldOut' : 'seen'].push(i);
  });
  const share = (indices, right) => {
    const count = indices.filter(right).length;
    return { right: count, images: indices.length, precision: count / indices.length };
  };
  return Object.fromEntries(
    Object.entries(groups).map(([name, indices]) => [
      name,
      {
        both: share(
          indices,
          (i) => readings[i].colour === specs[i].colour && readings[i].shape === specs[i].shape,
        ),
        colour: share(indices, (i) => readings[i].colour === specs[i].colour),
        shape: share(indices, (i) => readings[i].shape === specs[i].shape),
      },
    ]),
  );
}

async function loadAnyCLIP(dir) {
  if (existsSync(join(dir, 'model.safetensors'))) return loadCLIP(dir);
  return (await loadPipelineComponents(dir, ['clip'])).clip;
}

async function clipReadings(clip) {
  const textEmbeds = clip.encodeText(prompts.map((p) => p.prompt));
  const pixels = clip.imageProcessor.preprocessImages(images);
  const similarity = tf.tidy(() => tf.matMul(clip.encodeImage(pixels), textEmbeds, false, true));
  const values = await similarity.data();
  tf.dispose([textEmbeds, pixels, similarity]);
  return specs.map((_, row) => {
    let top = 0;
    for (let t = 1; t < prompts.length; t++) {
      if (values[row * prompts.length + t] > values[row * prompts.length + top]) top = t;
    }
    return prompts[top];
  });
}

const result = { imageSize: IMAGE_SIZE, specs: specs.length, prompts: prompts.length };
result.pixelChecker = tally(images.map((image) => classifyShapeImage(image)));
for (const dir of folders) {
  const clip = await loadAnyCLIP(dir);
  result[dir] = tally(await clipReadings(clip));
  clip.dispose();
}
console.log(JSON.stringify(result, null, 2));
