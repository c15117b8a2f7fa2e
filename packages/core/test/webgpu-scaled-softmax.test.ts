import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { selectBackend, setWebGpuKernels } from '../src/backend/index.js';
import { MultiheadAttention, scaledSoftmax } from '../src/layers/index.js';
import { TorchGenerator } from '../src/random/index.js';
import { expectAgreement, expectNoLeaksOnWebgpu, webgpuSkipReason } from './webgpu-support.js';

// scaledSoftmax: softmax(scale x) over the last axis, attention's scores. On webgpu one program
// forward and one backward (checked against the cpu backend's tf.softmax(tf.mul(x, scale)));
// elsewhere exactly those ops.

const skipReason = await webgpuSkipReason();

afterEach(() => setWebGpuKernels('default'));
afterAll(async () => {
  await selectBackend('cpu');
});

const gen = new TorchGenerator(7);
const randn = (shape: number[]) => tf.tensor(gen.normal(tf.util.sizeFromShape(shape)), shape);

describe('scaledSoftmax on cpu', () => {
  test('is tf.softmax(tf.mul(x, scale)) over the last axis, and refuses a scale that is not positive', async () => {
    await selectBackend('cpu');
    const x = randn([2, 3, 7]);
    const [ours, plain] = [scaledSoftmax(x, 0.3), tf.softmax(tf.mul(x, 0.3), -1)];
    expect(Array.from(ours.dataSync())).toEqual(Array.from(plain.dataSync()));
    expect(() => scaledSoftmax(x, 0)).toThrow('scaledSoftmax: scale must be positive, got 0');
    tf.dispose([x, ours, plain]);
  });
});

describe.skipIf(skipReason !== null)(
  `scaledSoftmax on webgpu${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    // Rows shorter and longer than a workgroup's 256 threads, a single entry, and more rows than
    // one dispatch dimension holds (65535).
    test.each([[[2, 3, 5, 77]], [[3, 300]], [[1, 1]], [[66000, 3]]])(
      'forward and gradient agree with the cpu backend for %j',
      async (shape) => {
        const values = gen.normal(tf.util.sizeFromShape(shape));
        const upstream = gen.normal(values.length);
        await expectAgreement(() => {
          const x = tf.tensor(values, shape);
          const r = tf.tensor(upstream, shape);
          const y = scaledSoftmax(x, 0.7);
          // A random upstream gradient, so that the row sums of dy y are not trivially zero.
          const dx = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(scaledSoftmax(z, 0.7), r)))(x);
          return [y, dx];
        }, 1e-5);
      },
    );

    test('runs one kernel each way on webgpu, tfjs Softmax with the switch off, and leaks nothing', async () => {
      await selectBackend('webgpu');
      const x = randn([4, 9]);
      const kernels = async () => {
        const profile = await tf.profile(() => {
          const dx = tf.grad((z: tf.Tensor) => tf.sum(scaledSoftmax(z, 0.5)))(x);
          return dx;
        });
        return profile.kernels.map((k) => k.name);
      };
      const ours = await kernels();
      expect(ours).toContain('Dalle2jsScaledSoftmax');
      expect(ours).toContain('Dalle2jsScaledSoftmaxGrad');
      expect(ours).not.toContain('Softmax');
      setWebGpuKernels({ softmax: false });
      const plain = await kernels();
      expect(plain).toContain('Softmax');
      expect(plain.filter((name) => name.startsWith('Dalle2js'))).toEqual([]);
      setWebGpuKernels('default');
      await expectNoLeaksOnWebgpu(() => [tf.grad((z: tf.Tensor) => tf.sum(scaledSoftmax(z, 0.5)))(x)]);
      x.dispose();
    });

    test('MultiheadAttention with the default kernels (scaled softmax, no fused attention) agrees with cpu', async () => {
      await selectBackend('cpu');
      const attention = new MultiheadAttention(32, 4, { rng: new TorchGenerator(8) });
      const x = gen.normal(2 * 10 * 32);
      try {
        await expectAgreement(() => {
          const input = tf.tensor3d(x, [2, 10, 32]);
          const loss = () => tf.sum(tf.square(attention.apply(input))) as tf.Scalar;
          // Not k_proj's bias: its gradient is zero up to rounding (softmax ignores a shift shared by a row).
          const weights = [attention.q_proj, attention.k_proj, attention.v_proj, attention.out_proj].map(
            (layer) => layer.weight,
          );
          const { value, grads } = tf.variableGrads(loss, weights);
          const dx = tf.grad((z: tf.Tensor) => tf.sum(tf.square(attention.apply(z))))(input);
          return [value, dx, ...weights.map((w) => grads[w.name]!)];
        });
      } finally {
        attention.dispose();
      }
    });
  },
);
