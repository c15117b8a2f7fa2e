import {
  GroupNorm,
  MultiheadAttention,
  setWasmSimdKernelsEnabled,
  setWebGpuKernels,
  TorchGenerator,
} from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import type { BenchBackend, MeasurementSpec, Prepared, Suite } from './suite.js';

/** The conv of issue #8's table: 3x3, [8, 64, 64, 128] -> 128 channels, stride 1, same padding. */
const CONV_INPUT = [8, 64, 64, 128] as const;
const CONV_FILTER = [3, 3, 128, 128] as const;
const CONV_FLOPS = 2 * CONV_INPUT[0] * CONV_INPUT[1] * CONV_INPUT[2] * 9 * CONV_INPUT[3] * CONV_FILTER[3];

/** A GroupNorm and SiLU at the first level of a U-Net: [8, 64, 64, 128], 32 groups. */
const NORM_INPUT = [8, 64, 64, 128] as const;

/** Self-attention at a seed U-Net's 16 x 16 level: 256 tokens of 512 channels, 8 heads, batch 8. */
const ATTENTION = { batch: 8, tokens: 256, channels: 512, heads: 8 } as const;
const ATTENTION_FLOPS =
  ATTENTION.batch *
  (4 * 2 * ATTENTION.tokens * ATTENTION.channels ** 2 + 2 * 2 * ATTENTION.tokens ** 2 * ATTENTION.channels);

/**
 * A linear layer at a seed U-Net's 16 x 16 level at batch 8 (an attention projection): [2048, 512]
 * times [512, 512], forward and both gradients (dx = dy W^T, dW = x^T dy): three matMuls, each
 * with its own transposes.
 */
const LINEAR = { rows: 8 * 256, in: 512, out: 512 } as const;
const LINEAR_FLOPS = 2 * LINEAR.rows * LINEAR.in * LINEAR.out;

/** Where each measurement's switch sits: our kernels on, or the backend's own. */
interface Variant {
  label: string;
  backends: readonly BenchBackend[];
  /** Sets the switch for the measurement; undone by `reset`. */
  set: () => void;
}

const RESET = () => {
  setWebGpuKernels('default');
  setWasmSimdKernelsEnabled(true);
};

const WEBGPU_VARIANTS: Variant[] = [
  { label: 'tfjs-backend-webgpu kernels', backends: ['webgpu'], set: () => setWebGpuKernels('none') },
  { label: 'our webgpu kernels', backends: ['webgpu'], set: () => setWebGpuKernels('all') },
];

/** What users get: ours, fused attention off (attention through our matMul and scaled softmax). */
const WEBGPU_DEFAULT_VARIANT: Variant = {
  label: 'our default webgpu kernels',
  backends: ['webgpu'],
  set: () => setWebGpuKernels('default'),
};

const WASM_VARIANTS: Variant[] = [
  { label: 'wasm, JavaScript loops', backends: ['wasm'], set: () => setWasmSimdKernelsEnabled(false) },
  { label: 'wasm, SIMD kernels', backends: ['wasm'], set: () => setWasmSimdKernelsEnabled(true) },
];

/** The gradients of `loss` for `variables`, read back. */
function gradientStep(loss: () => tf.Scalar, variables: tf.Variable[]): () => Promise<void> {
  return async () => {
    const { value, grads } = tf.variableGrads(loss, variables);
    const all = [value, ...Object.values(grads)];
    await Promise.all(all.map((t) => t.data()));
    tf.dispose(all);
  };
}

function convPrepare(variant: Variant): Prepared {
  variant.set();
  const x = tf.tidy(() => tf.variable(tf.randomNormal([...CONV_INPUT], 0, 1, 'float32', 1)));
  const w = tf.tidy(() => tf.variable(tf.randomNormal([...CONV_FILTER], 0, 0.05, 'float32', 2)));
  const r = tf.randomNormal([...CONV_INPUT.slice(0, 3), CONV_FILTER[3]], 0, 1, 'float32', 3);
  const loss = () => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), r)) as tf.Scalar;
  return {
    step: gradientStep(loss, [x, w]),
    dispose: () => {
      tf.dispose([x, w, r]);
      RESET();
    },
  };
}

function convForwardPrepare(variant: Variant): Prepared {
  variant.set();
  const x = tf.randomNormal([...CONV_INPUT], 0, 1, 'float32', 1);
  const w = tf.randomNormal([...CONV_FILTER], 0, 0.05, 'float32', 2);
  return {
    step: async () => {
      const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
      await y.data();
      y.dispose();
    },
    dispose: () => {
      tf.dispose([x, w]);
      RESET();
    },
  };
}

function normPrepare(variant: Variant): Prepared {
  variant.set();
  const channels = NORM_INPUT[3];
  const norm = new GroupNorm(32, channels);
  const x = tf.tidy(() => tf.variable(tf.randomNormal([...NORM_INPUT], 0.5, 2, 'float32', 4)));
  const r = tf.randomNormal([...NORM_INPUT], 0, 1, 'float32', 5);
  const loss = () => tf.sum(tf.mul(norm.apply(x, { activation: 'silu' }), r)) as tf.Scalar;
  return {
    step: gradientStep(loss, [x, norm.weight, norm.bias]),
    dispose: () => {
      tf.dispose([x, r]);
      norm.dispose();
      RESET();
    },
  };
}

function attentionPrepare(variant: Variant): Prepared {
  variant.set();
  const { batch, tokens, channels, heads } = ATTENTION;
  const attention = new MultiheadAttention(channels, heads, { rng: new TorchGenerator(6) });
  const x = tf.tidy(() => tf.variable(tf.randomNormal([batch, tokens, channels], 0, 1, 'float32', 7)));
  const r = tf.randomNormal([batch, tokens, channels], 0, 1, 'float32', 8);
  const loss = () => tf.sum(tf.mul(attention.apply(x), r)) as tf.Scalar;
  return {
    step: gradientStep(loss, [x, ...attention.trainableVariables()]),
    dispose: () => {
      tf.dispose([x, r]);
      attention.dispose();
      RESET();
    },
  };
}

function linearPrepare(variant: Variant): Prepared {
  variant.set();
  const x = tf.tidy(() => tf.variable(tf.randomNormal([LINEAR.rows, LINEAR.in], 0, 1, 'float32', 9)));
  const w = tf.tidy(() => tf.variable(tf.randomNormal([LINEAR.in, LINEAR.out], 0, 0.05, 'float32', 10)));
  const r = tf.randomNormal([LINEAR.rows, LINEAR.out], 0, 1, 'float32', 11);
  const loss = () => tf.sum(tf.mul(tf.matMul(x, w), r)) as tf.Scalar;
  return {
    step: gradientStep(loss, [x, w]),
    dispose: () => {
      tf.dispose([x, w, r]);
      RESET();
    },
  };
}

/** The batched matMul on webgpu, ours against tfjs-backend-webgpu's (wasm has no matMul of ours). */
function matMulMeasurements(variants: Variant[], reps: MeasurementSpec['reps']): MeasurementSpec[] {
  return variants.map((variant) => ({
    name: `matMul [${LINEAR.rows},${LINEAR.in}] x [${LINEAR.in},${LINEAR.out}], forward+backward, ${variant.label}`,
    backends: variant.backends,
    batch: LINEAR.rows,
    reps,
    flops: 3 * LINEAR_FLOPS,
    note: 'FLOPs: x W, dy W^T and x^T dy, each 2 * rows * in * out',
    prepare: () => linearPrepare(variant),
  }));
}

/** Self-attention forward+backward under `variant`'s kernels. */
function attentionMeasurement(variant: Variant, reps: MeasurementSpec['reps']): MeasurementSpec {
  return {
    name: `self-attention ${ATTENTION.heads} heads [${ATTENTION.batch},${ATTENTION.tokens},${ATTENTION.channels}], forward+backward, ${variant.label}`,
    backends: variant.backends,
    batch: ATTENTION.batch,
    reps,
    flops: 3 * ATTENTION_FLOPS,
    note: 'FLOPs: the q, k, v and out projections and the two score products, backward 2x forward',
    prepare: () => attentionPrepare(variant),
  };
}

function measurements(variants: Variant[], reps: MeasurementSpec['reps']): MeasurementSpec[] {
  return variants.flatMap((variant) => [
    {
      name: `conv2d 3x3 [${CONV_INPUT}] -> ${CONV_FILTER[3]}, forward, ${variant.label}`,
      backends: variant.backends,
      batch: CONV_INPUT[0],
      reps,
      flops: CONV_FLOPS,
      note: 'FLOPs: 2 * N * H * W * 9 * in * out',
      prepare: () => convForwardPrepare(variant),
    },
    {
      name: `conv2d 3x3 [${CONV_INPUT}] -> ${CONV_FILTER[3]}, forward+backward, ${variant.label}`,
      backends: variant.backends,
      batch: CONV_INPUT[0],
      reps,
      flops: 3 * CONV_FLOPS,
      note: 'FLOPs: forward, input gradient and filter gradient, each 2 * N * H * W * 9 * in * out',
      prepare: () => convPrepare(variant),
    },
    {
      name: `GroupNorm 32 groups + SiLU [${NORM_INPUT}], forward+backward, ${variant.label}`,
      backends: variant.backends,
      batch: NORM_INPUT[0],
      reps,
      prepare: () => normPrepare(variant),
    },
    attentionMeasurement(variant, reps),
  ]);
}

/**
 * Our kernels against the backend's own, side by side in one process: on webgpu the implicit-GEMM
 * conv2d and its input and filter gradients, the tiled matMul, the GroupNorm programs and fused attention
 * (`setWebGpuKernels`: all of them against none), on wasm the SIMD memory kernels
 * (`setWasmSimdKernelsEnabled`). A measurement's name says which ran.
 */
export const kernelsSuite: Suite = {
  name: 'kernels',
  description:
    "our webgpu and wasm kernels against the backends' own: a 3x3 conv on [8, 64, 64, 128] forward and forward+backward, forward+backward of a GroupNorm on the same and of self-attention on [8, 256, 512]; on webgpu also a linear layer's matMuls, [2048, 512] x [512, 512], forward+backward, and the attention with our default kernels (fused attention off)",
  measurements: [
    ...measurements(WASM_VARIANTS, { wasm: 3 }),
    ...measurements(WEBGPU_VARIANTS, { wasm: 3, webgpu: 3 }),
    ...matMulMeasurements(WEBGPU_VARIANTS, { wasm: 3, webgpu: 3 }),
    attentionMeasurement(WEBGPU_DEFAULT_VARIANT, { wasm: 3, webgpu: 3 }),
  ],
};
