// The backends are imported explicitly, as an app would; every switch goes through selectBackend.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { CLIPModel, CLIPTokenizer, trainBPE } from '@dalle2js/clip';
import {
  AdamW,
  type BackendName,
  type Module,
  selectBackend,
  TorchGenerator,
  trainStep,
} from '@dalle2js/core';
import { Dalle2, Decoder } from '@dalle2js/dalle2';
import { addNoise, diffusionLoss, NoiseSchedule } from '@dalle2js/diffusion';
import { DiffusionPrior } from '@dalle2js/prior';
import { UNet, type UNetConfigInput } from '@dalle2js/unet';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { difference, webgpuSkipReason } from '../../../packages/core/test/webgpu-support.js';

const skipReason = await webgpuSkipReason();
if (skipReason) console.warn(`webgpu comparisons skipped: ${skipReason}`);
const webgpuNote = skipReason ? ` (skipped: ${skipReason})` : '';

type Backend = Extract<BackendName, 'cpu' | 'wasm' | 'webgpu'>;
const BACKENDS: Backend[] = skipReason ? ['cpu', 'wasm'] : ['cpu', 'wasm', 'webgpu'];

/** Named outputs of one run, read back with `await t.data()`. */
type Outputs = Map<string, Float32Array>;

/** Builds everything from `seed` on the active backend and returns host copies of what it computed. */
type SeededComputation = (seed: number) => Promise<Outputs>;

interface Run {
  outputs: Outputs;
  /** Tensors alive after the run that were not before it. */
  leaked: number;
}

/** Runs `compute` on each backend in turn, each time switching with selectBackend. */
async function onEachBackend(compute: SeededComputation, seed: number): Promise<Map<Backend, Run>> {
  const runs = new Map<Backend, Run>();
  for (const backend of BACKENDS) {
    await selectBackend(backend);
    expect(tf.getBackend()).toBe(backend);
    const before = tf.memory().numTensors;
    const started = performance.now();
    const outputs = await compute(seed);
    console.info(`${compute.name} on ${backend}: ${((performance.now() - started) / 1000).toFixed(2)} s`);
    runs.set(backend, { outputs, leaked: tf.memory().numTensors - before });
    // An output that is the same number everywhere (a zero-initialised layer's) would compare nothing.
    for (const [name, values] of outputs) {
      if (values.length > 1) expect(Math.max(...values), name).toBeGreaterThan(Math.min(...values));
    }
  }
  return runs;
}

/** A bound on `difference(actual, expected)`: relative to the output's scale, or absolute. */
type Tolerance = { relative: number } | { absolute: number };

interface Worst {
  name: string;
  /** How far the output is from its bound: 1 is exactly at it. */
  fraction: number;
  measured: string;
}

/** The output that comes closest to (or goes furthest past) its tolerance. */
function worstOutput(actual: Outputs, expected: Outputs, tolerance: (name: string) => Tolerance): Worst {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  let worst: Worst = { name: 'none', fraction: 0, measured: '' };
  for (const [name, values] of expected) {
    const measured = difference(actual.get(name)!, values);
    const bound = tolerance(name);
    const [kind, value, limit] =
      'relative' in bound
        ? (['relative', measured.relative, bound.relative] as const)
        : (['absolute', measured.absolute, bound.absolute] as const);
    const fraction = value / limit;
    if (!(fraction <= worst.fraction)) {
      worst = { name, fraction, measured: `${kind} ${value.toExponential(2)} (bound ${limit})` };
    }
  }
  return worst;
}

/**
 * Replaces every trainable parameter by seeded random values: weights N(0, 1 / fan-in), vectors
 * (biases, norm scales) moved by N(0, 0.1^2). A new U-Net starts its residual branches and its
 * output conv at zero, so without this it would output exactly 0 on every backend.
 */
function randomizeParameters(module: Module, gen: TorchGenerator): void {
  for (const { variable, trainable } of module.namedParameters().values()) {
    if (!trainable || variable.dtype !== 'float32') continue;
    const noise = gen.normal(variable.size);
    tf.tidy(() => {
      const random = tf.tensor(noise, variable.shape);
      if (variable.rank < 2) variable.assign(tf.add(variable, tf.mul(random, 0.1)));
      else variable.assign(tf.div(random, Math.sqrt(variable.size / variable.shape[variable.rank - 1]!)));
    });
  }
}

const read = async (t: tf.Tensor) => Float32Array.from(await t.data());

// dim 8, two levels (8 and 4 px), self- and cross-attention at 4 px and in the middle.
const TINY_UNET: UNetConfigInput = {
  dim: 8,
  dimMults: [1, 2],
  numResnetBlocks: 1,
  imageEmbedDim: 8,
  numImageTokens: 2,
  selfAttention: [false, true],
  crossAttention: [false, true],
  midAttention: true,
  attentionHeadDim: 8,
  normGroups: 4,
};
const BATCH = 2;
const LR = 1e-3;
const SIZE = 8;

interface UNetInputs {
  unet: UNet;
  x: tf.Tensor4D; // [B, S, S, 3]
  t: number[]; // [B]
  imageEmbed: tf.Tensor2D; // [B, imageEmbedDim]
}

function seededUNet(seed: number): UNetInputs {
  const gen = new TorchGenerator(seed);
  const unet = new UNet(TINY_UNET, { rng: gen });
  randomizeParameters(unet, gen);
  const x = gen.randnTensor([BATCH, SIZE, SIZE, 3]) as tf.Tensor4D;
  const imageEmbed = gen.randnTensor([BATCH, 8]) as tf.Tensor2D;
  return { unet, x, t: [3, 700], imageEmbed };
}

async function unetForward(seed: number): Promise<Outputs> {
  const { unet, x, t, imageEmbed } = seededUNet(seed);
  try {
    const out = unet.apply(x, t, { imageEmbed }); // [B, S, S, 3]
    const guided = unet.forwardWithGuidance(x, t, { imageEmbed }, 3); // [B, S, S, 3]
    try {
      return new Map([
        ['apply', await read(out)],
        ['forwardWithGuidance', await read(guided)],
      ]);
    } finally {
      tf.dispose([out, guided]);
    }
  } finally {
    unet.dispose();
    tf.dispose([x, imageEmbed]);
  }
}

async function unetTrainStep(seed: number): Promise<Outputs> {
  const { unet, x, t, imageEmbed } = seededUNet(seed);
  const gen = new TorchGenerator(seed + 1);
  const noise = gen.randnTensor([BATCH, SIZE, SIZE, 3]);
  const schedule = new NoiseSchedule({ betaSchedule: 'cosine', numTrainTimesteps: 1000 });
  const optimizer = new AdamW(unet, { lr: LR, weightDecay: 0.01 });
  try {
    const loss = await trainStep(
      unet,
      () => diffusionLoss(unet.apply(addNoise(schedule, x, noise, t), t, { imageEmbed }), noise),
      optimizer,
    );
    const outputs: Outputs = new Map([['loss', Float32Array.of(loss)]]);
    for (const [name, { variable }] of unet.namedParameters()) outputs.set(name, await read(variable));
    return outputs;
  } finally {
    optimizer.dispose();
    unet.dispose();
    tf.dispose([x, imageEmbed, noise]);
  }
}

// A pipeline of tiny random components: CLIP with a BPE vocabulary learned from a few captions,
// an 8-d prior, and a cascade of an 8 px decoder and a 16 px upsampler.
const CAPTIONS = [
  'a red circle',
  'a blue square',
  'a green triangle',
  'a small red square',
  'a big blue circle',
];
const CONTEXT = 12;

function tinyPipeline(seed: number): Dalle2 {
  const rng = new TorchGenerator(seed);
  const tokenizer = new CLIPTokenizer(trainBPE(CAPTIONS, { vocabSize: 600, minFrequency: 1 }));
  const clip = new CLIPModel(
    {
      text_config: {
        vocab_size: tokenizer.vocabSize,
        hidden_size: 16,
        intermediate_size: 32,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        max_position_embeddings: CONTEXT,
        eos_token_id: tokenizer.endId,
        bos_token_id: tokenizer.startId,
        pad_token_id: tokenizer.endId,
      },
      vision_config: {
        hidden_size: 12,
        intermediate_size: 24,
        num_hidden_layers: 1,
        num_attention_heads: 3,
        image_size: 8,
        patch_size: 4,
      },
      projection_dim: 8,
    },
    { rng, tokenizer },
  );
  const prior = new DiffusionPrior(
    {
      network: { dim: 8, depth: 1, heads: 2, numTextTokens: CONTEXT, textEncodingDim: 16, mlpRatio: 2 },
      numTrainTimesteps: 10,
    },
    { rng },
  );
  const unet = { ...TINY_UNET, midAttention: false };
  const decoders = [
    new Decoder({ unet, imageSize: 8, numTrainTimesteps: 10 }, { rng }),
    new Decoder(
      { unet: { ...unet, lowresCond: true }, imageSize: 16, lowresImageSize: 8, numTrainTimesteps: 10 },
      { rng },
    ),
  ];
  for (const module of [clip, prior.network, ...decoders.map((decoder) => decoder.unet)]) {
    randomizeParameters(module, rng);
  }
  return new Dalle2({ clip, prior, decoders });
}

async function pipelineGenerate(seed: number): Promise<Outputs> {
  const pipeline = tinyPipeline(seed);
  try {
    // Decoder guidance 1: with random weights, the default scale of 8 turns float32 rounding into
    // differences of 0.03 to 0.18 between the backends' images within 5 steps (measured), which
    // would hide a real disagreement as well as it hides rounding.
    const { images } = await pipeline.generate(['a red circle', 'a blue square'], {
      seed: seed + 1,
      priorSteps: 5,
      decoderSteps: 5,
      decoderGuidance: 1,
      sampler: 'ddim',
    }); // [2, 16, 16, 3]
    try {
      const values = await read(images);
      // Images clipped to -1 or 1 everywhere would agree whatever the backends computed.
      const clipped = values.filter((v) => Math.abs(v) >= 0.999).length;
      expect(clipped / values.length, 'fraction of pixels at -1 or 1').toBeLessThan(0.5);
      return new Map([['images', values]]);
    } finally {
      images.dispose();
    }
  } finally {
    pipeline.dispose();
  }
}

afterAll(async () => {
  await selectBackend('cpu');
});

// All three backends compute in float32 but sum in different orders (and wasm through XNNPACK),
// so they agree to rounding, and the bounds are on max |a - b| / max |b| per output (`difference`).
describe.each([
  { computation: unetForward, tolerance: (): Tolerance => ({ relative: 1e-4 }) },
  {
    computation: unetTrainStep,
    tolerance: (name: string): Tolerance =>
      name === 'loss'
        ? { relative: 1e-5 }
        : // The key bias gets no gradient (softmax is the same for any constant added to a query's
          // logits), so its gradient is rounding noise, and AdamW's first step, lr * g / (|g| + eps),
          // moves it by up to lr either way: the backends can differ by 2 lr there.
          name.endsWith('.k_proj.bias')
          ? { absolute: 2 * LR }
          : // AdamW's first step divides each gradient by its own size, which magnifies rounding
            // differences of small gradient entries in the updated parameters.
            { relative: 2e-4 },
  },
  // Sampling repeats the network and divides by small signal rates, so rounding grows with the
  // steps; 2e-3 on images in [-1, 1] is a quarter of one 8-bit level.
  { computation: pipelineGenerate, tolerance: (): Tolerance => ({ relative: 2e-3 }) },
])('$computation.name', ({ computation, tolerance }) => {
  let runs: Map<Backend, Run>;
  beforeAll(async () => {
    runs = await onEachBackend(computation, 0);
  });

  test('leaves no tensor behind on any backend', () => {
    expect(Object.fromEntries([...runs].map(([backend, run]) => [backend, run.leaked]))).toEqual(
      Object.fromEntries(BACKENDS.map((backend) => [backend, 0])),
    );
  });

  const pairs: [Backend, Backend, boolean][] = [
    ['wasm', 'cpu', false],
    ['webgpu', 'cpu', skipReason !== null],
    ['webgpu', 'wasm', skipReason !== null],
  ];
  for (const [a, b, skip] of pairs) {
    test.skipIf(skip)(`${a} agrees with ${b}${skip ? webgpuNote : ''}`, () => {
      const worst = worstOutput(runs.get(a)!.outputs, runs.get(b)!.outputs, tolerance);
      console.info(
        `${computation.name}, ${a} vs ${b}: closest to its bound: ${worst.name}, ${worst.measured}`,
      );
      expect(worst.fraction, `${worst.name}: ${worst.measured}`).toBeLessThanOrEqual(1);
    });
  }
});
