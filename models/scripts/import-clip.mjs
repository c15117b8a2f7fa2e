// Puts a CLIP checkpoint folder (Hugging Face layout, as `pnpm --filter @dalle2js/clip train:shapes`
// writes it) into a pipeline folder as its CLIP, keeping whatever else the folder holds. Run after
// `pnpm build`:
//   node models/scripts/import-clip.mjs runs/clip-shapes/model models/shapes

import { loadCLIP } from '../../packages/clip/dist/index.js';
import { selectBackend } from '../../packages/core/dist/index.js';
import { savePipelineComponents } from '../../packages/dalle2/dist/index.js';

const [from, to] = process.argv.slice(2);
if (!from || !to) {
  console.error('usage: node models/scripts/import-clip.mjs CLIP_DIR PIPELINE_DIR');
  process.exit(2);
}
await selectBackend('wasm');
const clip = await loadCLIP(from);
if (clip.tokenizer === undefined) throw new Error(`${from} has no tokenizer (vocab.json + merges.txt)`);
await savePipelineComponents(to, { clip });
console.log(`${to}: CLIP from ${from} (${clip.numParameters().toLocaleString('en')} parameters)`);
clip.dispose();
