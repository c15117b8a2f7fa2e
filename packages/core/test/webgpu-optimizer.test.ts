import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { selectBackend, setWebGpuKernels } from '../src/backend/index.js';
import { SQUARED_SUM_KERNEL } from '../src/backend/optimizer-kernels-contract.js';
import type { WebGpuBackend } from '../src/backend/webgpu-kernels/webgpu-program.js';
import { Linear } from '../src/layers/index.js';
import { Module } from '../src/nn/index.js';
import { TorchGenerator } from '../src/random/index.js';
import { AdamW, clipCoefficient, EMA, globalGradNorm, trainStep } from '../src/train/index.js';
import { referenceAdamW } from './adamw-reference.js';
import { countDispatches, difference, webgpuSkipReason } from './webgpu-support.js';

// The optimizer's kernels on WebGPU (lavapipe on CI): AdamW, the EMA update and the squared sum of
// the gradient norm, against float64 references and against the plain ops they replace. The
// updates are a few float32 operations apart from the references, so the bound is tighter than
// the layer tests'.
const TOLERANCE = 1e-6;
const OPTIONS = { lr: 0.05, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };
const STEPS = 3;
// 1073 entries: not a multiple of the 256 threads of a workgroup, so the bounds check matters.
const WEIGHT_SHAPE = [37, 29];
const BIAS_SHAPE = [29];

const skipReason = await webgpuSkipReason();

/** One scalar parameter, as CLIP's logit scale. */
class LogitScale extends Module {
  readonly value = this.addParameter('value', tf.scalar(2.5));
}

afterEach(() => setWebGpuKernels('default'));
afterAll(async () => {
  await selectBackend('cpu');
});

const gen = new TorchGenerator(3);
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const weight0 = gen.normal(size(WEIGHT_SHAPE));
const bias0 = gen.normal(size(BIAS_SHAPE));
// Gradients of mixed scales, so that eps and the bias corrections both show.
const weightGrads = Array.from({ length: STEPS }, (_, s) =>
  gen.normal(size(WEIGHT_SHAPE)).map((g) => g * 10 ** (s - 1)),
);
const biasGrads = Array.from({ length: STEPS }, () => gen.normal(size(BIAS_SHAPE)));

interface Trained {
  weight: Float32Array;
  bias: Float32Array;
  state: Map<string, Float32Array>;
  /** The kernels each step ran (tf.profile), in order. */
  kernels: string[];
}

/**
 * Three AdamW steps on a weight (decayed) and a bias (not), on the active backend; `beforeStep(s)`
 * runs before step s.
 */
async function train(beforeStep: (s: number) => void = () => {}): Promise<Trained> {
  const weight = tf.variable(tf.tensor(weight0, WEIGHT_SHAPE));
  const bias = tf.variable(tf.tensor(bias0, BIAS_SHAPE));
  const optimizer = new AdamW(
    new Map([
      ['weight', weight],
      ['bias', bias],
    ]),
    {
      lr: OPTIONS.lr,
      betas: [OPTIONS.beta1, OPTIONS.beta2],
      eps: OPTIONS.eps,
      weightDecay: OPTIONS.weightDecay,
    },
  );
  let kernels: string[] = [];
  try {
    for (let s = 0; s < STEPS; s++) {
      beforeStep(s);
      const grads = new Map<tf.Variable, tf.Tensor>([
        [weight, tf.tensor(weightGrads[s]!, WEIGHT_SHAPE)],
        [bias, tf.tensor(biasGrads[s]!, BIAS_SHAPE)],
      ]);
      const profile = await tf.profile(() => optimizer.step(grads));
      kernels = profile.kernels.map((k) => k.name);
      tf.dispose([...grads.values()]);
    }
    const exported = optimizer.exportState();
    const state = new Map<string, Float32Array>();
    for (const [key, tensor] of exported) state.set(key, Float32Array.from(await tensor.data()));
    tf.dispose([...exported.values()]);
    return {
      weight: Float32Array.from(await weight.data()),
      bias: Float32Array.from(await bias.data()),
      state,
      kernels,
    };
  } finally {
    optimizer.dispose();
    tf.dispose([weight, bias]);
  }
}

describe.skipIf(skipReason !== null)(
  `the optimizer's kernels on webgpu${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    test('the kernel runs once per parameter and matches PyTorch in float64, moments included', async () => {
      await selectBackend('webgpu');
      const fused = await train();
      expect(fused.kernels).toEqual(['Dalle2jsAdamW', 'Dalle2jsAdamW']);
      const weightRef = referenceAdamW(weight0, weightGrads, OPTIONS);
      const biasRef = referenceAdamW(bias0, biasGrads, { ...OPTIONS, weightDecay: 0 });
      const pairs: [string, ArrayLike<number>, number[]][] = [
        ['weight', fused.weight, weightRef.param],
        ['bias', fused.bias, biasRef.param],
        ['weight.exp_avg', fused.state.get('weight.exp_avg')!, weightRef.expAvg],
        ['weight.exp_avg_sq', fused.state.get('weight.exp_avg_sq')!, weightRef.expAvgSq],
        ['bias.exp_avg_sq', fused.state.get('bias.exp_avg_sq')!, biasRef.expAvgSq],
      ];
      for (const [name, actual, expected] of pairs) {
        expect(difference(actual, expected).relative, name).toBeLessThan(TOLERANCE);
      }
      expect(Array.from(fused.state.get('weight.step')!)).toEqual([STEPS]);
    });

    test('the kernel and the plain ops it replaces give the same numbers', async () => {
      await selectBackend('webgpu');
      const fused = await train();
      setWebGpuKernels({ optimizer: false });
      const plain = await train();
      expect(plain.kernels).not.toContain('Dalle2jsAdamW');
      expect(plain.kernels.length).toBeGreaterThan(20);
      expect(difference(fused.weight, plain.weight).relative).toBeLessThan(TOLERANCE);
      expect(difference(fused.bias, plain.bias).relative).toBeLessThan(TOLERANCE);
      for (const key of ['weight.exp_avg', 'weight.exp_avg_sq']) {
        expect(difference(fused.state.get(key)!, plain.state.get(key)!).relative, key).toBeLessThan(
          TOLERANCE,
        );
      }
    });

    test('switching between the kernel (moments as one tensor) and the plain ops (two) between steps keeps the moments', async () => {
      await selectBackend('webgpu');
      const switched = await train((s) => setWebGpuKernels({ optimizer: s !== 1 }));
      const weightRef = referenceAdamW(weight0, weightGrads, OPTIONS);
      const pairs: [string, ArrayLike<number>, number[]][] = [
        ['weight', switched.weight, weightRef.param],
        ['weight.exp_avg', switched.state.get('weight.exp_avg')!, weightRef.expAvg],
        ['weight.exp_avg_sq', switched.state.get('weight.exp_avg_sq')!, weightRef.expAvgSq],
      ];
      for (const [name, actual, expected] of pairs) {
        expect(difference(actual, expected).relative, name).toBeLessThan(TOLERANCE);
      }
    });

    test('repeated steps leave no tensors or GPU buffers behind', async () => {
      await selectBackend('webgpu');
      const weight = tf.variable(tf.tensor(weight0, WEIGHT_SHAPE));
      const optimizer = new AdamW([weight]);
      const grad = tf.tensor(weightGrads[0]!, WEIGHT_SHAPE);
      const step = async () => {
        optimizer.step([grad]);
        await weight.data();
      };
      await step();
      const before = [tf.memory().numTensors, tf.engine().backend.numDataIds()];
      await step();
      await step();
      expect([tf.memory().numTensors, tf.engine().backend.numDataIds()]).toEqual(before);
      optimizer.dispose();
      tf.dispose([weight, grad]);
    });

    test.each([1, 255, 16384, 16385, 300007])(
      'the squared sum of %i entries matches float64',
      async (length) => {
        await selectBackend('webgpu');
        const values = new TorchGenerator(length).normal(length);
        const x = tf.tensor1d(values);
        const sum = tf.engine().runKernel(SQUARED_SUM_KERNEL, { x0: x }, {}) as tf.Tensor;
        expect(sum.shape).toEqual([]);
        const expected = Array.from(values).reduce((total, v) => total + v * v, 0);
        expect(Math.abs((await sum.data())[0]! - expected) / expected).toBeLessThan(1e-5);
        tf.dispose([x, sum]);
      },
    );

    test('a clipped training step and an EMA update: one kernel per parameter each, same numbers as plain ops', async () => {
      await selectBackend('webgpu');
      const input = tf.tensor(gen.normal(8 * 37), [8, 37]);
      const trained = async () => {
        const layer = new Linear(37, 29, { rng: new TorchGenerator(5) });
        const optimizer = new AdamW(layer, { lr: 0.01 });
        const ema = new EMA(layer, { decay: 0.9 });
        const loss = () => tf.sum(tf.square(layer.apply(input))) as tf.Scalar;
        try {
          let kernels: string[] = [];
          for (let s = 0; s < 2; s++) {
            const profile = await tf.profile(async () => {
              await trainStep(layer, loss, optimizer, { clip: 0.5 });
              ema.update();
            });
            kernels = profile.kernels.map((k) => k.name);
          }
          const read = (t: tf.Tensor) => t.data().then((d) => Float32Array.from(d));
          const shadow = ema.exportState();
          const out = {
            kernels,
            weight: await read(layer.weight),
            shadow: await read(shadow.get('shadow.weight')!),
          };
          tf.dispose([...shadow.values()]);
          return out;
        } finally {
          optimizer.dispose();
          ema.dispose();
          layer.dispose();
        }
      };
      const fused = await trained();
      const count = (name: string) => fused.kernels.filter((k) => k === name).length;
      // One squared sum for both gradients; an update per parameter.
      expect([count('Dalle2jsSquaredSum'), count('Dalle2jsAdamW'), count('Dalle2jsEmaUpdate')]).toEqual([
        1, 2, 2,
      ]);
      setWebGpuKernels({ optimizer: false });
      const plain = await trained();
      const optimizerKernels = ['Dalle2jsSquaredSum', 'Dalle2jsAdamW', 'Dalle2jsEmaUpdate'];
      expect(plain.kernels.filter((k) => optimizerKernels.includes(k))).toEqual([]);
      expect(difference(fused.weight, plain.weight).relative).toBeLessThan(TOLERANCE);
      expect(difference(fused.shadow, plain.shadow).relative).toBeLessThan(TOLERANCE);
      input.dispose();
    });

    test('the global norm of more gradients than WebGPU binds at once (8) matches float64, a dispatch per few', async () => {
      await selectBackend('webgpu');
      // Some past one workgroup's chunk (16384 entries), one empty.
      const lengths = Array.from({ length: 40 }, (_, i) => [16385, 300007, 0].at(i % 13) ?? 5 + i);
      const values = lengths.map((length, i) => new TorchGenerator(100 + i).normal(length));
      const grads = values.map((v) => tf.tensor1d(v));
      let norm: tf.Tensor | undefined;
      const dispatches = countDispatches(() => {
        norm = globalGradNorm(grads);
      });
      const expected = Math.sqrt(values.flatMap((v) => Array.from(v)).reduce((total, g) => total + g * g, 0));
      expect(Math.abs((await norm!.data())[0]! - expected) / expected).toBeLessThan(1e-6);
      // 37 non-empty gradients: 7 in the first program, then 6 beside the partial sums each; then
      // one program adds up the last partial sums, and the square root.
      const perProgram =
        (tf.backend() as unknown as WebGpuBackend).device.limits.maxStorageBuffersPerShaderStage - 1;
      expect(dispatches).toBe(1 + Math.ceil((37 - perProgram) / (perProgram - 1)) + 2);
      tf.dispose([norm!, ...grads]);
    });

    test("a scalar parameter (as CLIP's logit scale) takes the same kernels", async () => {
      await selectBackend('webgpu');
      const module = new LogitScale();
      const scalar = module.value;
      const optimizer = new AdamW(module, { lr: 0.1 });
      const ema = new EMA(module, { decay: 0.5 });
      const grad = tf.scalar(0.7);
      const { coefficient, totalNorm } = clipCoefficient([grad], 0.5);
      const profile = await tf.profile(() => {
        optimizer.step([grad], { gradScale: coefficient });
        ema.update();
      });
      // Besides the moments' first zeros, only our kernels.
      const kernels = profile.kernels.map((k) => k.name).filter((name) => name !== 'ZerosLike');
      expect(kernels).toEqual(['Dalle2jsAdamW', 'Dalle2jsEmaUpdate']);
      expect((await totalNorm.data())[0]).toBeCloseTo(0.7, 6);
      // The first AdamW step moves by lr whatever the gradient's scale; rank 0 is not decayed.
      expect((await scalar.data())[0]).toBeCloseTo(2.4, 6);
      const shadow = ema.exportState();
      expect((await shadow.get('shadow.value')!.data())[0]).toBeCloseTo(2.45, 6);
      tf.dispose([...shadow.values(), grad, coefficient, totalNorm]);
      optimizer.dispose();
      ema.dispose();
      module.dispose();
    });
  },
);
