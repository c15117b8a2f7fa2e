import { TorchGenerator } from '@dalle2js/core';
import { UNet, type UNetConfigInput, type UNetPresetName, unetPreset } from '@dalle2js/unet';
import * as tf from '@tensorflow/tfjs-core';
import { defaultModelUNetConfig } from './bench-models.js';
import { countUNetFlops } from './count-unet-flops.js';
import type { BenchBackend, MeasurementSpec, Prepared, Suite } from './suite.js';
import { unetInputs } from './unet-inputs.js';

interface UNetCase {
  preset: UNetPresetName;
  /** Names the case instead of the preset and its overrides. */
  label?: string;
  /** Changes to the preset, named in the measurement. */
  overrides?: UNetConfigInput;
  batch: number;
  size: number;
  backends: readonly BenchBackend[];
  forwardReps: MeasurementSpec['reps'];
  trainReps: MeasurementSpec['reps'];
}

/** A U-Net with its default initialisation, and seeded inputs: x [B, S, S, 3], t [B], imageEmbed [B, 512]. */
function prepareUNet({ preset, overrides, batch, size }: UNetCase, train: boolean): Prepared {
  const generator = new TorchGenerator(0);
  const unet = new UNet(unetPreset(preset, overrides), { rng: generator });
  const inputs = unetInputs(unet, generator, batch, size);
  const { x, timesteps, imageEmbed } = inputs;
  const variables = unet.trainableVariables();
  const forward = async () => {
    const y = unet.apply(x, timesteps, { imageEmbed });
    await y.data();
    y.dispose();
  };
  // Forward and backward: the gradient of the epsilon loss for every parameter, no optimizer step.
  const trainStep = async () => {
    const { value, grads } = tf.variableGrads(inputs.loss, variables);
    const all = [value, ...Object.values(grads)];
    await Promise.all(all.map((t) => t.data()));
    tf.dispose(all);
  };
  return {
    step: train ? trainStep : forward,
    dispose: () => {
      unet.dispose();
      inputs.dispose();
    },
  };
}

function unetMeasurements(unetCase: UNetCase, trainNotRun?: string): MeasurementSpec[] {
  const { preset, overrides, batch, size } = unetCase;
  const flops = countUNetFlops(unetPreset(preset, overrides), batch, size);
  const changes = Object.entries(overrides ?? {}).map(([key, value]) => ` ${key} ${value}`);
  const label = `${unetCase.label ?? `U-Net ${preset}${changes.join('')}`} ${size}px batch ${batch}`;
  return [
    {
      name: `${label} forward`,
      backends: unetCase.backends,
      batch,
      reps: unetCase.forwardReps,
      flops: flops.forward,
      prepare: () => prepareUNet(unetCase, false),
    },
    {
      name: `${label} forward+backward`,
      backends: unetCase.backends,
      batch,
      reps: unetCase.trainReps,
      flops: flops.trainStep,
      note: 'FLOPs: backward counted as 2x forward (see countUNetFlops)',
      ...(trainNotRun === undefined ? {} : { notRun: trainNotRun }),
      prepare: () => prepareUNet(unetCase, true),
    },
  ];
}

/**
 * The seed decoder at 64 px, batch 4 (0.39 TFLOP forward): wasm only, since the cpu backend and a
 * software WebGPU adapter would take many minutes a call. Its forward+backward does not fit in
 * wasm's 4 GB heap, so the same architecture at half the width (dim 64, 69M parameters, batch 1)
 * stands in for the training step.
 */
export const unetSeedSuite: Suite = {
  name: 'unet-seed',
  description:
    'U-Net seed preset, 64 px, batch 4: forward (its training step does not fit in wasm memory); the seed architecture at dim 64, batch 1: forward and forward+backward',
  measurements: [
    ...unetMeasurements(
      {
        preset: 'seed',
        batch: 4,
        size: 64,
        backends: ['wasm'],
        forwardReps: { wasm: 2 },
        trainReps: { wasm: 1 },
      },
      "does not fit in wasm: 276M parameters (1.1 GB), their gradients (1.1 GB) and XNNPACK's packed copies of the conv weights (1.1 GB) leave too little of the 4 GB heap for the activations; it aborts even at batch 1, 32 px",
    ),
    ...unetMeasurements({
      preset: 'seed',
      overrides: { dim: 64 },
      batch: 1,
      size: 64,
      backends: ['wasm'],
      // The CPU target of issue #8 is read off this step: enough repetitions for a steady median.
      forwardReps: { wasm: 5 },
      trainReps: { wasm: 7 },
    }),
  ],
};

/**
 * The small preset at 64 px, batch 4 (wasm, cpu), and at 32 px, batch 1 on every backend, WebGPU
 * included; the default model's decoder at its training size and batch (32 px, 16).
 */
export const unetSmallSuite: Suite = {
  name: 'unet-small',
  description:
    'U-Net small preset: 64 px batch 4 (wasm, cpu) and 32 px batch 1 (every backend); the default model decoder, 32 px batch 16 (every backend); forward and forward+backward',
  measurements: [
    ...unetMeasurements({
      preset: 'small',
      batch: 4,
      size: 64,
      backends: ['wasm', 'cpu'],
      forwardReps: { wasm: 3, cpu: 1 },
      trainReps: { wasm: 3, cpu: 1 },
    }),
    ...unetMeasurements({
      preset: 'small',
      batch: 1,
      size: 32,
      backends: ['wasm', 'cpu', 'webgpu'],
      forwardReps: { wasm: 3, cpu: 1, webgpu: 2 },
      trainReps: { wasm: 3, cpu: 1, webgpu: 1 },
    }),
    ...unetMeasurements({
      preset: 'small',
      label: 'U-Net of the default model (models/shapes)',
      overrides: defaultModelUNetConfig(),
      batch: 16,
      size: 32,
      backends: ['wasm', 'cpu', 'webgpu'],
      forwardReps: { wasm: 3, cpu: 1, webgpu: 2 },
      trainReps: { wasm: 3, cpu: 1, webgpu: 1 },
    }),
  ],
};
