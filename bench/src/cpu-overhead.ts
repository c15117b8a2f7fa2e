// The CPU's share of the seed U-Net's steps on WebGPU, measured on Dawn's null device: every
// kernel is recorded, validated and submitted as on a GPU, but nothing runs, so the time is the
// floor that tfjs and Dawn put under a step on any GPU. Ours against tfjs-backend-webgpu's own
// kernels, in one process. JSON out; see bench/README.md.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AdamW, selectBackend, setWebGpuKernels, TorchGenerator } from '@dalle2js/core';
import { UNet, unetPreset } from '@dalle2js/unet';
import { type EnqueueOverhead, measureEnqueue } from './enqueue-overhead.js';
import { machineInfo, packageVersions } from './machine-info.js';
import { overheadSteps } from './overhead-steps.js';
import { unetInputs } from './unet-inputs.js';

const USAGE = `Usage: pnpm bench:overhead [--dim 16] [--batch 1] [--size 16] [--reps 9] [--out FILE]
The seed preset's U-Net layout at width --dim, with min(32, dim) norm groups and heads of
min(64, 2 dim) (Dawn's null device holds 512 MB: the full seed model does not fit, and at width 32
tfjs' kernels run out of it; the layers, and so the kernels, are the same at any width).
Each set of kernels runs in a process of its own (--kernels ours|tfjs), so that the buffers one
leaves in tfjs' pool do not crowd out the other's.`;

const STEPS = ['forwardBackward', 'trainerStep', 'guidedStep'] as const;
const KERNELS = { ours: 'default', tfjs: 'none' } as const;
type KernelSet = keyof typeof KERNELS;
type StepResults = Record<(typeof STEPS)[number], EnqueueOverhead>;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dim: { type: 'string', default: '16' },
      batch: { type: 'string', default: '1' },
      size: { type: 'string', default: '16' },
      reps: { type: 'string', default: '9' },
      kernels: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const [dim, batch, size, reps] = [values.dim, values.batch, values.size, values.reps].map(positiveInteger);
  const options = { dim: dim!, batch: batch!, size: size!, reps: reps! };
  if (values.kernels !== undefined) {
    if (!(values.kernels in KERNELS))
      throw new Error(`--kernels must be ours or tfjs, got "${values.kernels}"`);
    const results = await measureKernels(values.kernels as KernelSet, options);
    process.stdout.write(`${JSON.stringify(results)}\n`);
    process.exit(0);
  }
  const results = {} as Record<KernelSet, StepResults>;
  for (const kernels of Object.keys(KERNELS) as KernelSet[]) {
    const args = [fileURLToPath(import.meta.url), '--kernels', kernels];
    for (const [flag, value] of Object.entries(options)) args.push(`--${flag}`, String(value));
    const stdout = execFileSync(process.execPath, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    results[kernels] = JSON.parse(stdout.trim().split('\n').at(-1)!) as StepResults;
  }
  const ratios = Object.fromEntries(
    STEPS.map((step) => {
      const [ours, tfjs] = [results.ours[step], results.tfjs[step]];
      return [
        step,
        {
          enqueueTfjsOverOurs: round(tfjs.enqueueMs / ours.enqueueMs),
          dispatchesTfjsOverOurs: round(tfjs.dispatches! / ours.dispatches!),
          microsecondsPerDispatch: round((1000 * ours.enqueueMs) / ours.dispatches!),
        },
      ];
    }),
  );
  const report = {
    schema: 1,
    date: new Date().toISOString(),
    machine: machineInfo(),
    versions: packageVersions(),
    device: "Dawn's null device (no GPU work: the times are the CPU's)",
    model: { preset: 'seed', ...options },
    note: 'enqueueMs: median time for the call to return, nothing awaited; totalMs: until its results are read back; kernels: tfjs kernels run; dispatches: GPU programs. ours: setWebGpuKernels default; tfjs: none',
    results,
    ratios,
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (values.out) writeFileSync(values.out, json);
  else process.stdout.write(json);
  for (const step of STEPS) console.error(`${step}: ${JSON.stringify(ratios[step])}`);
}

/** The three steps' CPU share with one set of kernels, in this process. */
async function measureKernels(
  kernels: KernelSet,
  { dim, batch, size, reps }: { dim: number; batch: number; size: number; reps: number },
): Promise<StepResults> {
  await installNullWebGpu();
  await selectBackend('webgpu');
  setWebGpuKernels(KERNELS[kernels]);
  const rng = new TorchGenerator(0);
  const config = {
    ...unetPreset('seed'),
    dim,
    normGroups: Math.min(32, dim),
    attentionHeadDim: Math.min(64, 2 * dim),
  };
  const unet = new UNet(config, { rng });
  const inputs = unetInputs(unet, rng, batch, size);
  const optimizer = new AdamW(unet, { lr: 1e-4 });
  const steps = overheadSteps(unet, { ...inputs, optimizer, guidance: 3 });
  const results = {} as StepResults;
  try {
    for (const step of STEPS) {
      results[step] = await measureEnqueue(steps[step], reps);
      console.error(`${kernels}, ${step}: ${JSON.stringify(results[step])}`);
    }
  } finally {
    steps.dispose();
    optimizer.dispose();
    inputs.dispose();
    unet.dispose();
  }
  return results;
}

/** navigator.gpu from Dawn's null backend, before `selectBackend('webgpu')` would install a real one. */
async function installNullWebGpu(): Promise<void> {
  const dawn = (await import('webgpu')) as unknown as {
    create(options: string[]): { requestAdapter(): Promise<unknown> };
    globals: object;
  };
  const gpu = dawn.create(['backend=null']);
  if (!(await gpu.requestAdapter())) throw new Error("Dawn's null device is not available");
  Object.assign(globalThis, dawn.globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
}

function positiveInteger(text: string | undefined): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`expected a positive integer, got "${text}"\n${USAGE}`);
  return value;
}

const round = (x: number) => Math.round(x * 100) / 100;

await main();
