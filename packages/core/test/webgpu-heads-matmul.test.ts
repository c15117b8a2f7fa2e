import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { selectBackend, setWebGpuKernels } from '../src/backend/index.js';
import { type HeadsLayout, headsMatMul, MultiheadAttention } from '../src/layers/index.js';
import { TorchGenerator } from '../src/random/index.js';
import { expectAgreement, expectNoLeaksOnWebgpu, webgpuSkipReason } from './webgpu-support.js';

// headsMatMul: tf.matMul over [B, H] matrices whose operands and result may lie as
// [B, rows, H, cols]. On webgpu one kernel (our tiled GEMM through strides) with the same kernel
// as its gradient, checked against the cpu backend's transposes and tf.matMul.

const skipReason = await webgpuSkipReason();

afterEach(() => setWebGpuKernels('default'));
afterAll(async () => {
  await selectBackend('cpu');
});

const gen = new TorchGenerator(11);
const [B, H] = [2, 3];

/** A [B, H] batch of rows x cols matrices stored in `layout`, with its values. */
function matrices(rows: number, cols: number, layout: HeadsLayout) {
  const shape = layout === 'batch' ? [B, H, rows, cols] : [B, rows, H, cols];
  return { shape, values: gen.normal(B * H * rows * cols) };
}

const CASES: { tA: boolean; tB: boolean; la: HeadsLayout; lb: HeadsLayout; lo: HeadsLayout; d: number }[] = [
  // Attention's two products and their gradients' shapes, with vec4 (8) and scalar (5) inner reads.
  { tA: false, tB: true, la: 'heads', lb: 'heads', lo: 'batch', d: 8 },
  { tA: false, tB: false, la: 'batch', lb: 'heads', lo: 'heads', d: 8 },
  { tA: true, tB: false, la: 'batch', lb: 'heads', lo: 'heads', d: 5 },
  { tA: true, tB: true, la: 'heads', lb: 'batch', lo: 'heads', d: 5 },
  { tA: false, tB: false, la: 'batch', lb: 'batch', lo: 'batch', d: 7 },
];

function productAndGradients({ tA, tB, la, lb, lo, d }: (typeof CASES)[number]) {
  const [rows, cols] = [6, 9];
  // A is read (rows, inner), stored (inner, rows) when transposed; B (inner, cols), or (cols, inner).
  const a = tA ? matrices(d, rows, la) : matrices(rows, d, la);
  const b = tB ? matrices(cols, d, lb) : matrices(d, cols, lb);
  const outShape = lo === 'batch' ? [B, H, rows, cols] : [B, rows, H, cols];
  const upstream = gen.normal(B * H * rows * cols);
  return () => {
    const x = tf.tensor(a.values, a.shape);
    const y = tf.tensor(b.values, b.shape);
    const r = tf.tensor(upstream, outShape);
    const options = { transposeA: tA, transposeB: tB, layoutA: la, layoutB: lb, layoutOut: lo };
    const c = headsMatMul(x, y, options);
    const loss = (p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(headsMatMul(p, q, options), r));
    const [dx, dy] = tf.grads(loss)([x, y]);
    return [c, dx!, dy!];
  };
}

describe('headsMatMul on cpu', () => {
  test('equals tf.matMul of the transposed operands, transposed back', async () => {
    await selectBackend('cpu');
    const q = tf.tensor(gen.normal(B * 4 * H * 5), [B, 4, H, 5]);
    const k = tf.tensor(gen.normal(B * 6 * H * 5), [B, 6, H, 5]);
    const ours = headsMatMul(q, k, { transposeB: true, layoutA: 'heads', layoutB: 'heads' });
    const plain = tf.matMul(tf.transpose(q, [0, 2, 1, 3]), tf.transpose(k, [0, 2, 1, 3]), false, true);
    expect(ours.shape).toEqual([B, H, 4, 6]);
    expect(Array.from(ours.dataSync())).toEqual(Array.from(plain.dataSync()));
    tf.dispose([q, k, ours, plain]);
  });

  test('names wrong ranks, batches and inner sizes', async () => {
    await selectBackend('cpu');
    const [x3, x4, y4, z4] = [
      tf.zeros([2, 3, 4]),
      tf.zeros([2, 3, 4, 5]),
      tf.zeros([2, 4, 3, 5]),
      tf.zeros([2, 3, 6, 5]),
    ];
    expect(() => headsMatMul(x3, x4)).toThrow(
      'headsMatMul: a must have rank 4 ([B, H, rows, cols]), got shape [2,3,4]',
    );
    expect(() => headsMatMul(x4, y4, { transposeB: true })).toThrow(
      'headsMatMul: a has 2 x 3 matrices, b 2 x 4',
    );
    expect(() => headsMatMul(x4, z4)).toThrow(
      'headsMatMul: inner sizes differ, 5 in a [2,3,4,5] and 6 in b [2,3,6,5]',
    );
    tf.dispose([x3, x4, y4, z4]);
  });
});

describe.skipIf(skipReason !== null)(
  `headsMatMul on webgpu${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    test.each(CASES)(
      'product and gradients agree with cpu: transposes $tA $tB, layouts $la x $lb -> $lo, inner $d',
      async (c) => {
        await expectAgreement(productAndGradients(c));
      },
    );

    test('one kernel forward and one per gradient, no transposes, nothing leaked', async () => {
      await selectBackend('webgpu');
      const q = tf.tensor(gen.normal(B * 4 * H * 8), [B, 4, H, 8]);
      const k = tf.tensor(gen.normal(B * 6 * H * 8), [B, 6, H, 8]);
      const scores = (x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.square(headsMatMul(x, y, { transposeB: true, layoutA: 'heads', layoutB: 'heads' })));
      const profile = await tf.profile(() => tf.grads(scores)([q, k]));
      const names = profile.kernels.map((kernel) => kernel.name);
      expect(names.filter((name) => name === 'Dalle2jsHeadsMatMul')).toHaveLength(3);
      expect(names).not.toContain('Transpose');
      setWebGpuKernels({ matMul: false });
      const plain = (await tf.profile(() => tf.grads(scores)([q, k]))).kernels.map((kernel) => kernel.name);
      expect(plain).toContain('Transpose');
      expect(plain).not.toContain('Dalle2jsHeadsMatMul');
      setWebGpuKernels('default');
      await expectNoLeaksOnWebgpu(() => tf.grads(scores)([q, k]));
      tf.dispose([q, k]);
    });

    test.each([
      { label: 'causal', causal: true, padded: false },
      { label: 'with a key padding mask', causal: false, padded: true },
      { label: 'unmasked', causal: false, padded: false },
    ])(
      'MultiheadAttention $label runs without transposes and agrees with cpu',
      async ({ causal, padded }) => {
        await selectBackend('cpu');
        const attention = new MultiheadAttention(24, 3, { rng: new TorchGenerator(12) });
        const x = gen.normal(2 * 9 * 24);
        const keep = Array.from({ length: 2 * 9 }, (_, i) => (i % 9 < 6 + (i >= 9 ? 2 : 0) ? 1 : 0));
        const compute = () => {
          const input = tf.tensor3d(x, [2, 9, 24]);
          const keyPaddingMask = padded ? tf.tensor2d(keep, [2, 9], 'int32') : undefined;
          const attend = (z: tf.Tensor) => attention.apply(z, { causal, keyPaddingMask });
          const weights = [attention.q_proj.weight, attention.v_proj.weight, attention.out_proj.weight];
          const loss = () => tf.sum(tf.square(attend(input))) as tf.Scalar;
          const { grads } = tf.variableGrads(loss, weights);
          const dx = tf.grad((z: tf.Tensor) => tf.sum(tf.square(attend(z))))(input);
          return [attend(input), dx, ...weights.map((w) => grads[w.name]!)];
        };
        try {
          await expectAgreement(compute);
          await selectBackend('webgpu');
          const profile = await tf.profile(() => compute());
          tf.dispose(profile.result as tf.Tensor[]);
          const names = profile.kernels.map((kernel) => kernel.name);
          expect(names).toContain('Dalle2jsHeadsMatMul');
          expect(names).not.toContain('Transpose');
        } finally {
          attention.dispose();
        }
      },
    );
  },
);
