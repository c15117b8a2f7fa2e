// Our side of the GPU comparison with bench/twin/bench_twin.py: the seed-preset U-Net on WebGPU
// (Dawn in Node), the same measurements and inputs as the twin, JSON on stdout (and --out FILE,
// rewritten after each measurement so that a run cut short keeps what it measured).
// It imports bench/src's TypeScript, so it runs bundled (esbuild): bash ../shared/device/prepare-gpu-carry.sh bench/gpu/webgpu-bench.mjs, then
// bash .gpu/run.sh [options], or locally: see bench/gpu/README.md. Options:
//   --backend webgpu|cpu   (cpu: a local smoke run)     --preset seed|small   --batch 8   --size 64
//   --reps 3   --sample-steps 50   --guidance 3   --out FILE
//   --only fwd,fwdbwd,train,memory,sample,fwdbwd-tfjs-kernels,fwdbwd-all-kernels,sample-tfjs-kernels,overhead,generate,kernels
//   (fwdbwd-tfjs-kernels: fwdbwd on tfjs' own kernels, setWebGpuKernels('none'), the baseline of ours;
//   sample-tfjs-kernels: sample likewise;
//   fwdbwd-all-kernels: with fused attention too, setWebGpuKernels('all'), off by default until measured;
//   overhead: the CPU's share, how long the step, a trainer step (clip, AdamW, EMA) and a guided sampling step take to return before
//   anything is awaited, beside the whole call, with the kernels and GPU dispatches they run;
//   kernels: the webgpu measurements of `pnpm bench kernels`, each of our kernels against tfjs')
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AdamW, selectBackend, setWebGpuKernels, TorchGenerator, trainStep } from '@dalle2js/core';
import { Dalle2, Decoder } from '@dalle2js/dalle2';
import { DDIMScheduler, sample } from '@dalle2js/diffusion';
import { DiffusionPrior, priorPreset } from '@dalle2js/prior';
import { countUNetParameters, resolveUNetConfig, UNet, unetPreset } from '@dalle2js/unet';
import * as tf from '@tensorflow/tfjs-core';
import { PROMPTS, seedCLIP } from '../src/bench-models.ts';
import { countUNetFlops } from '../src/count-unet-flops.ts';
import { measureEnqueue } from '../src/enqueue-overhead.ts';
import { kernelsSuite } from '../src/kernels-suite.ts';
import { overheadSteps } from '../src/overhead-steps.ts';
import { unetInputs } from '../src/unet-inputs.ts';
import { webgpuAdapterInfo } from '../src/webgpu-adapter.ts';

const MEASUREMENTS = [
  'fwd',
  'fwdbwd',
  'train',
  'memory',
  'sample',
  'fwdbwd-tfjs-kernels',
  'fwdbwd-all-kernels',
  'sample-tfjs-kernels',
  'overhead',
  'generate',
  'kernels',
];
const PROMPT = PROMPTS[0];
const forwardFlops = (config, b, s) => countUNetFlops(config, b, s).forward;

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgpu' },
    preset: { type: 'string', default: 'seed' },
    batch: { type: 'string', default: '8' },
    size: { type: 'string', default: '64' },
    reps: { type: 'string', default: '3' },
    'sample-steps': { type: 'string', default: '50' },
    guidance: { type: 'string', default: '3' },
    only: { type: 'string', default: MEASUREMENTS.join(',') },
    out: { type: 'string' },
  },
});
const batch = Number(args.batch);
const size = Number(args.size);
const reps = Number(args.reps);
const sampleSteps = Number(args['sample-steps']);
const guidance = Number(args.guidance);
const only = new Set(args.only.split(','));
for (const name of only) {
  if (!MEASUREMENTS.includes(name))
    throw new Error(`--only: unknown "${name}"; valid: ${MEASUREMENTS.join(', ')}`);
}

/** Median of `reps` timed calls after one warm-up; each call ends by reading a result back. A failure is recorded. */
async function measure(name, step, flops) {
  try {
    return await timed(name, step, flops);
  } catch (error) {
    // Reported and skipped, so that one failure (an out-of-memory, a buffer limit) leaves the rest.
    console.error(`${name}: failed: ${error?.stack ?? error}`);
    return { name, error: String(error?.message ?? error) };
  }
}

async function timed(name, step, flops) {
  await step();
  const times = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    await step();
    times.push(performance.now() - start);
  }
  const ms = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  const result = {
    name,
    ms: round(ms),
    msMin: round(times[0]),
    reps,
    warmup: 1,
    flops,
    tflops: Number((flops / ms / 1e9).toPrecision(4)),
  };
  console.error(`${name}: ${ms.toFixed(1)} ms, ${result.tflops} TFLOP/s`);
  return result;
}

const round = (x) => Math.round(x * 1000) / 1000;

async function unetMeasurements(config, report, save) {
  const rng = new TorchGenerator(0);
  const unet = new UNet(config, { rng });
  const inputs = unetInputs(unet, rng, batch, size);
  const { x, imageEmbed, timesteps, loss } = inputs;
  const fwd = forwardFlops(config, batch, size);
  const label = `U-Net ${args.preset} ${size}px batch ${batch}`;
  const optimizer = new AdamW(unet, { lr: 1e-4 });
  try {
    if (only.has('fwd')) {
      report.measurements.push(
        await measure(
          `${label} forward`,
          async () => {
            const y = unet.apply(x, timesteps, { imageEmbed });
            await y.data();
            y.dispose();
          },
          fwd,
        ),
      );
      save();
    }
    const gradients = async () => {
      const { value, grads } = tf.variableGrads(loss, unet.trainableVariables());
      const all = [value, ...Object.values(grads)];
      await Promise.all(all.map((t) => t.data()));
      tf.dispose(all);
    };
    if (only.has('fwdbwd')) {
      report.measurements.push(await measure(`${label} forward+backward`, gradients, 3 * fwd));
      save();
    }
    if (only.has('train')) {
      report.measurements.push(
        await measure(`${label} train step (AdamW)`, () => trainStep(unet, loss, optimizer), 3 * fwd),
      );
      save();
    }
    if (only.has('memory')) {
      // tfjs' own count of the bytes held by live tensors (weights, AdamW moments, activations), not the driver's.
      try {
        const info = await tf.profile(() => trainStep(unet, loss, optimizer));
        report.memory = { trainStepPeakBytes: info.peakBytes, afterTrainStep: tf.memory() };
        console.error(`train step peak: ${(info.peakBytes / 2 ** 30).toFixed(2)} GiB (tf.profile peakBytes)`);
      } catch (error) {
        report.memory = { error: String(error?.message ?? error) };
      }
      save();
    }
    const sampleMeasurement = async (suffix) => {
      const scheduler = new DDIMScheduler({ betaSchedule: 'cosine', numTrainTimesteps: 1000 });
      scheduler.setTimesteps(sampleSteps);
      const cond = rng.randnTensor([1, unet.config.imageEmbedDim]);
      const name = `sample 1 image(s), ${size}px, ${sampleSteps} guided DDIM steps (scale ${guidance})${suffix}`;
      try {
        report.measurements.push(
          await measure(
            name,
            async () => {
              const images = await sample({
                scheduler,
                model: (xt, t, c) => unet.forwardWithGuidance(xt, t, { imageEmbed: c }, guidance),
                shape: [1, size, size, unet.config.channels],
                generator: rng,
                cond,
              });
              await images.data();
              images.dispose();
            },
            sampleSteps * forwardFlops(config, 2, size),
          ),
        );
      } finally {
        cond.dispose();
      }
      save();
    };
    if (only.has('sample')) await sampleMeasurement('');
    // The same step on tfjs-backend-webgpu's own kernels (the baseline of ours), and with all of
    // ours, fused attention included.
    for (const [key, choice, suffix] of [
      ['fwdbwd-tfjs-kernels', 'none', 'tfjs kernels'],
      ['fwdbwd-all-kernels', 'all', 'all our kernels'],
    ]) {
      if (!only.has(key)) continue;
      setWebGpuKernels(choice);
      try {
        report.measurements.push(await measure(`${label} forward+backward, ${suffix}`, gradients, 3 * fwd));
      } finally {
        setWebGpuKernels('default');
      }
      save();
    }
    if (only.has('overhead')) {
      await overheadMeasurement(unet, inputs, optimizer, report);
      save();
    }
    // Sampling on tfjs' own kernels: the baseline of ours for generate.
    if (only.has('sample-tfjs-kernels')) {
      setWebGpuKernels('none');
      try {
        await sampleMeasurement(', tfjs kernels');
      } finally {
        setWebGpuKernels('default');
      }
    }
  } finally {
    optimizer.dispose();
    inputs.dispose();
    unet.dispose();
  }
}

/**
 * The CPU's share of a training step's gradients, of a whole trainer step (gradients, clipping to
 * norm 1, AdamW, an EMA update, as dalle2's trainers run it) and of one guided sampling step
 * (2 rows), with our kernels and with tfjs' own: where the call takes about as long to return as
 * to finish, the GPU is waiting on tfjs and Dawn.
 */
async function overheadMeasurement(unet, inputs, optimizer, report) {
  const steps = overheadSteps(unet, { ...inputs, optimizer, guidance });
  report.overhead = {
    note: 'enqueueMs: until the call returns, nothing awaited; totalMs: until its results are read back; medians',
  };
  try {
    for (const [label, choice] of [
      ['ours', 'default'],
      ['tfjs kernels', 'none'],
    ]) {
      setWebGpuKernels(choice);
      try {
        report.overhead[label] = {
          forwardBackward: await measureEnqueue(steps.forwardBackward, reps),
          trainerStep: await measureEnqueue(steps.trainerStep, reps),
          guidedStep: await measureEnqueue(steps.guidedStep, reps),
        };
        console.error(`overhead, ${label}: ${JSON.stringify(report.overhead[label])}`);
      } finally {
        setWebGpuKernels('default');
      }
    }
  } finally {
    steps.dispose();
  }
}

/** Dalle2.generate for one prompt: seed CLIP, small prior, the seed decoder; both samplers DDIM. */
async function generateMeasurement(config, report, save) {
  const rng = new TorchGenerator(0);
  const clip = seedCLIP(rng);
  const prior = new DiffusionPrior(priorPreset('small'), { rng });
  const decoder = new Decoder({ unet: config, imageSize: size }, { rng });
  const pipeline = new Dalle2({ clip, prior, decoders: [decoder] });
  const name = `generate 1 prompt, ${size}px, ${sampleSteps}+${sampleSteps} DDIM steps (seed CLIP, small prior, ${args.preset} decoder, guidance ${guidance})`;
  try {
    const result = await measure(
      name,
      async () => {
        const { images } = await pipeline.generate(PROMPT, {
          seed: 1,
          priorSteps: sampleSteps,
          decoderSteps: sampleSteps,
          decoderGuidance: guidance,
          sampler: 'ddim',
        });
        await images.data();
        images.dispose();
      },
      sampleSteps * forwardFlops(config, 2, size),
    );
    result.note = 'FLOPs: the decoder U-Net only (CLIP and the prior left out)';
    report.measurements.push(result);
    save();
  } finally {
    pipeline.dispose();
  }
}

/** The kernels suite's webgpu measurements: a conv, a GroupNorm and attention, ours against tfjs'. */
async function kernelMeasurements(report, save) {
  for (const spec of kernelsSuite.measurements.filter((m) => m.backends.includes('webgpu'))) {
    const prepared = await spec.prepare();
    try {
      report.measurements.push(await measure(spec.name, prepared.step, spec.flops ?? 0));
    } finally {
      prepared.dispose();
    }
    save();
  }
}

async function main() {
  // core installs Dawn's navigator.gpu in Node; tfjs asks the adapter for its own maximum limits.
  await selectBackend(args.backend);
  const adapter = args.backend === 'webgpu' ? await webgpuAdapterInfo() : null;
  const config = unetPreset(args.preset);
  const report = {
    side: 'tfjs',
    backend: tf.getBackend(),
    adapter,
    tfjs: tf.version_core,
    node: process.versions.node,
    config: resolveUNetConfig(config),
    parameters: countUNetParameters(config),
    batch,
    size,
    flopsNote:
      'countUNetFlops (bench/src/count-unet-flops.ts); backward = 2x forward; sampling = steps x forward at 2 rows',
    measurements: [],
  };
  const save = () => {
    if (args.out) writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
  };
  await unetMeasurements(config, report, save);
  if (only.has('generate')) await generateMeasurement(config, report, save);
  if (only.has('kernels')) await kernelMeasurements(report, save);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

await main();
process.exit(0);
