// Scores a pipeline's decoder alone: clean renderings of shapes specs are embedded with the
// pipeline's CLIP, the decoder draws an image from each true image embedding (no prior), and the
// pixel checker says whether it shows the spec's colour and shape. Set apart from `dalle2 eval`,
// it tells the decoder's errors from the prior's. Run after `pnpm build`:
//   node models/scripts/eval-decoder.mjs [models/shapes] [--count 48] [--guidance 1] [--steps 50]
import { parseArgs } from 'node:util';
import { selectBackend, TorchGenerator, tensorToImages } from '../../packages/core/dist/index.js';
import { loadPipelineComponents } from '../../packages/dalle2/dist/index.js';
import { classifyShapeImage, isHeldOutPair, makeShapesDataset } from '../../packages/datasets/dist/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    count: { type: 'string', default: '48' },
    guidance: { type: 'string', default: '1' },
    steps: { type: 'string', default: '50' },
  },
});
const dir = positionals[0] ?? new URL('../shapes', import.meta.url).pathname;
const count = Number(values.count);
const guidanceScale = Number(values.guidance);
const steps = Number(values.steps);
await selectBackend('wasm');
const { clip, decoders } = await loadPipelineComponents(dir, ['clip', 'decoders']);
const decoder = decoders[0];
// Seen pairs (new draws of the train split) and the held-out pairs, half each.
const examples = [
  ...makeShapesDataset({
    count: count / 2,
    imageSize: clip.config.vision_config.image_size,
    seed: 3,
    split: 'train',
  }),
  ...makeShapesDataset({
    count: count / 2,
    imageSize: clip.config.vision_config.image_size,
    seed: 3,
    split: 'heldout',
  }),
];
const pixels = clip.imageProcessor.preprocessImages(examples.map((e) => ({ ...e.image, channels: 3 })));
const imageEmbeds = clip.encodeImage(pixels);
pixels.dispose();
const started = performance.now();
const drawn = await decoder.sample(imageEmbeds, {
  sampler: 'ddim',
  steps,
  guidanceScale,
  generator: new TorchGenerator(0),
});
const seconds = (performance.now() - started) / 1000;
const images = await tensorToImages(drawn);
drawn.dispose();
imageEmbeds.dispose();
const tally = {
  seen: { images: 0, colour: 0, shape: 0, both: 0 },
  heldOut: { images: 0, colour: 0, shape: 0, both: 0 },
};
// For each asked-for shape, what the checker saw.
const shapesSeen = {};
examples.forEach(({ spec }, i) => {
  const judged = classifyShapeImage(images[i]);
  shapesSeen[spec.shape] ??= {};
  shapesSeen[spec.shape][judged.shape] = (shapesSeen[spec.shape][judged.shape] ?? 0) + 1;
  const group = tally[isHeldOutPair(spec.colour, spec.shape) ? 'heldOut' : 'seen'];
  group.images++;
  if (judged.colour === spec.colour) group.colour++;
  if (judged.shape === spec.shape) group.shape++;
  if (judged.colour === spec.colour && judged.shape === spec.shape) group.both++;
});
process.stdout.write(
  `${JSON.stringify({ model: dir, guidanceScale, steps, sampler: 'ddim', seconds, ...tally, shapesSeen }, null, 2)}\n`,
);
clip.dispose();
decoder.dispose();
