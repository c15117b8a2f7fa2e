// Trains the small shapes CLIP from scratch and scores text-image retrieval on images it never saw.
// Built by tsup into scripts/dist/train-shapes.js; it imports the built workspace packages.
//
//   pnpm build && pnpm --filter @dalle2js/clip train:shapes [--steps 2000 --backend wasm]
//
// Writes <out>/checkpoint.safetensors (resumable with --resume), <out>/model (loadCLIP reads it) and
// <out>/result.json (the command, wall and CPU time, losses and retrieval scores).
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CLIPModel,
  CLIPTrainer,
  type CLIPTrainerConfig,
  captionAttributes,
  captionMatchesSpec,
  evaluateRetrieval,
  type RetrievalAccuracy,
  SHAPES_IMAGE_SIZE,
  saveCLIP,
  shapesCLIPConfig,
  shapesTokenizer,
} from '@dalle2js/clip';
import { manualSeed, selectBackend } from '@dalle2js/core';
import { isHeldOutPair, makeShapesDataset } from '@dalle2js/datasets';

const started = performance.now();
const startedCpu = process.cpuUsage();
const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '1500' },
    'batch-size': { type: 'string', default: '128' },
    'learning-rate': { type: 'string', default: '3e-3' },
    'warmup-steps': { type: 'string', default: '100' },
    'train-count': { type: 'string', default: '6000' },
    'eval-count': { type: 'string', default: '512' },
    seed: { type: 'string', default: '0' },
    backend: { type: 'string', default: 'wasm' },
    threads: { type: 'string', default: '1' },
    out: { type: 'string' },
    'checkpoint-every': { type: 'string', default: '250' },
    resume: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(`train-shapes: train a small CLIP on synthetic shapes and score retrieval.

  --steps N             optimizer steps (default 1500)
  --batch-size N        pairs per step (default 128)
  --learning-rate X     peak learning rate (default 3e-3)
  --warmup-steps N      linear warm-up (default 100)
  --train-count N       training pairs drawn from the train split, seed 0 (default 6000)
  --eval-count N        evaluation pairs per set (default 512)
  --seed N              initial weights and batch order (default 0)
  --backend NAME        cpu, wasm, ... (default wasm)
  --threads N           wasm threads (default 1: extra threads spin and lose badly when
                        other processes share the cores)
  --out DIR             output folder (default <repo>/runs/clip-shapes)
  --checkpoint-every N  also checkpoint every N steps (default 250; 0: only at the end)
  --resume              carry on from <out>/checkpoint.safetensors when it exists`);
  process.exit(0);
}

const integer = (name: keyof typeof args) => {
  const value = Number(args[name]);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`--${name} must be a non-negative integer, got ${args[name]}`);
  return value;
};
const out = resolve(args.out ?? fileURLToPath(new URL('../../../../runs/clip-shapes', import.meta.url)));
const checkpointPath = join(out, 'checkpoint.safetensors');
const seed = integer('seed');
const trainerConfig: Partial<CLIPTrainerConfig> = {
  steps: integer('steps'),
  batchSize: integer('batch-size'),
  learningRate: Number(args['learning-rate']),
  warmupSteps: integer('warmup-steps'),
  seed,
};

const backend = await selectBackend(args.backend, { wasmThreads: integer('threads') });
console.log(`backend: ${backend.summary}; ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})`);

const tokenizer = shapesTokenizer('train');
manualSeed(seed);
const model = new CLIPModel(shapesCLIPConfig(tokenizer), { tokenizer });
console.log(
  `model: ${model.numParameters().toLocaleString('en')} parameters, vocabulary ${tokenizer.vocabSize}`,
);

const train = makeShapesDataset({
  count: integer('train-count'),
  imageSize: SHAPES_IMAGE_SIZE,
  seed: 0,
  split: 'train',
});
await mkdir(out, { recursive: true });
// Two pairs whose caption fits the other's image (two red circles, both "red circle") are not
// each other's negatives: the loss spreads each target over every image the caption describes.
const named = train.map((example) => captionAttributes(example.caption));
const trainer = new CLIPTrainer(model, train, trainerConfig, {
  matches: (text, image) => captionMatchesSpec(named[text]!, train[image]!.spec),
  checkpointPath,
  checkpointEvery: integer('checkpoint-every'),
  progress: { logEvery: 50 },
});
if (args.resume && existsSync(checkpointPath)) {
  await trainer.loadCheckpoint();
  console.log(`resumed from ${checkpointPath} at step ${trainer.step}`);
}
const summary = await trainer.train();

// Unseen images of the train split's specs: another seed draws other pairs and captions.
const evalCount = integer('eval-count');
const heldOutImages = makeShapesDataset({
  count: evalCount,
  imageSize: SHAPES_IMAGE_SIZE,
  seed: 1,
  split: 'train',
});
// The colour/shape pairs training never showed: asked among themselves, and among as many train-split pairs.
const heldOutPairs = makeShapesDataset({
  count: evalCount,
  imageSize: SHAPES_IMAGE_SIZE,
  seed: 2,
  split: 'heldout',
});
const mixed = [
  ...heldOutPairs,
  ...makeShapesDataset({ count: evalCount, imageSize: SHAPES_IMAGE_SIZE, seed: 2, split: 'train' }),
];
const scores: Record<string, RetrievalAccuracy> = {
  heldOutImages: await evaluateRetrieval(model, heldOutImages),
  heldOutPairs: await evaluateRetrieval(model, heldOutPairs),
  heldOutPairsAmongTrainPairs: await evaluateRetrieval(model, mixed, {
    isQuery: ({ spec }) => isHeldOutPair(spec.colour, spec.shape),
  }),
};
trainer.dispose();
await saveCLIP(model, join(out, 'model'));

const tail = summary.losses.slice(-50);
const result = {
  command: `node ${process.argv.slice(1).join(' ')}`,
  backend: backend.summary,
  cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
  wallSeconds: (performance.now() - started) / 1000,
  // User + system time of this process: about the wall time when it has a core to itself.
  cpuSeconds: (({ user, system }) => (user + system) / 1e6)(process.cpuUsage(startedCpu)),
  loadAverage: loadavg(),
  trainSeconds: summary.seconds,
  stepsRun: summary.steps,
  trainerConfig: trainer.config,
  trainCount: train.length,
  evalCount,
  firstLoss: summary.losses[0],
  lastLossMean50: tail.reduce((sum, loss) => sum + loss, 0) / Math.max(1, tail.length),
  retrieval: scores,
};
await writeFile(join(out, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
for (const [name, score] of Object.entries(scores)) {
  console.log(
    `${name}: text->image ${percent(score.textToImage)}, image->text ${percent(score.imageToText)} ` +
      `(chance ${percent(score.textToImageChance)}, ${score.textQueries} queries)`,
  );
}
console.log(
  `wall time ${result.wallSeconds.toFixed(1)} s (training ${summary.seconds.toFixed(1)} s, ` +
    `CPU ${result.cpuSeconds.toFixed(1)} s, load average ${result.loadAverage.map((x) => x.toFixed(1)).join(' ')}); wrote ${out}`,
);
model.dispose();
