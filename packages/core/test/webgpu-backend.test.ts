import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { selectBackend, setWebGpuKernels } from '../src/backend/index.js';
import { splitSizes } from '../src/backend/webgpu-kernels/conv2d-filter-grad-webgpu.js';
import { fusedAttentionAvailable } from '../src/layers/fused-attention.js';
import { Conv2d, GroupNorm, LayerNorm, Linear, MultiheadAttention } from '../src/layers/index.js';
import { TorchGenerator } from '../src/random/index.js';
import {
  AGREEMENT_TOLERANCE,
  countDispatches,
  difference,
  expectAgreement,
  expectNoLeaksOnWebgpu,
  webgpuSkipReason,
} from './webgpu-support.js';

// WebGPU in Node through core's selectBackend (Dawn; lavapipe on CI machines without a GPU),
// checked against the cpu backend. Both compute in float32 but sum in different orders, so results
// agree to rounding: every bound below is on max |webgpu - cpu| / max |cpu| (see `difference`),
// AGREEMENT_TOLERANCE unless given.

const skipReason = await webgpuSkipReason();
if (skipReason) console.warn(`webgpu tests skipped: ${skipReason}`);

afterAll(async () => {
  await selectBackend('cpu');
});

const gen = new TorchGenerator(0);
const randn = (shape: number[]) => ({ shape, values: gen.normal(shape.reduce((a, b) => a * b, 1)) });

describe.skipIf(skipReason !== null)(`webgpu vs cpu${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  test('selectBackend starts webgpu and it computes a known matMul', async () => {
    expect(await selectBackend('webgpu')).toEqual({ name: 'webgpu', summary: 'webgpu' });
    const product = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]));
    expect(Array.from(await product.data())).toEqual([19, 22, 43, 50]);
    product.dispose();
  });

  test('elementwise ops, reductions, softmax and reshapes agree', async () => {
    const a = randn([4, 6, 10]);
    const b = randn([4, 6, 10]);
    await expectAgreement(() => {
      const x = tf.tensor3d(a.values, a.shape as [number, number, number]);
      const y = tf.tensor3d(b.values, b.shape as [number, number, number]);
      return [
        tf.add(x, y),
        tf.mul(x, y),
        tf.div(x, tf.add(tf.abs(y), 1)),
        tf.exp(tf.mul(x, 0.5)),
        tf.tanh(x),
        tf.sigmoid(x),
        tf.sqrt(tf.abs(x)),
        tf.sum(x, 2),
        tf.mean(x, [0, 1]),
        tf.max(y, 1),
        tf.softmax(x, -1),
        tf.transpose(x, [2, 0, 1]),
        tf.concat([x, y], 1),
        tf.slice(y, [1, 2, 3], [2, 3, 4]),
      ];
    });
  });

  test('matMul agrees, plain and batched with a transpose', async () => {
    const a = randn([64, 96]);
    const b = randn([96, 48]);
    const c = randn([3, 32, 40]);
    const d = randn([3, 24, 40]);
    const worst = await expectAgreement(() => [
      tf.matMul(tf.tensor2d(a.values, [64, 96]), tf.tensor2d(b.values, [96, 48])),
      tf.matMul(tf.tensor3d(c.values, [3, 32, 40]), tf.tensor3d(d.values, [3, 24, 40]), false, true),
    ]);
    // Not trivially equal: the two backends sum 96 products in different orders.
    expect(worst).toBeGreaterThan(0);
  });

  test.each([
    { stride: 1, padding: 1 },
    { stride: 2, padding: 1 },
  ])('Conv2d forward agrees (stride $stride, padding $padding)', async ({ stride, padding }) => {
    await selectBackend('cpu');
    const conv = new Conv2d(4, 6, 3, { stride, padding, rng: new TorchGenerator(1) });
    const x = randn([2, 9, 9, 4]);
    try {
      await expectAgreement(() => [conv.apply(tf.tensor4d(x.values, [2, 9, 9, 4]))]);
    } finally {
      conv.dispose();
    }
  });

  test('Conv2d gradients (input, weight, bias) agree', async () => {
    await selectBackend('cpu');
    const conv = new Conv2d(4, 6, 3, { stride: 2, padding: 1, rng: new TorchGenerator(2) });
    const x = randn([2, 9, 9, 4]);
    const upstream = randn([2, 5, 5, 6]);
    try {
      await expectAgreement(() => {
        const input = tf.tensor4d(x.values, [2, 9, 9, 4]);
        const r = tf.tensor4d(upstream.values, [2, 5, 5, 6]);
        // A random upstream gradient, so no entry of the backward pass is trivially constant.
        const loss = () => tf.sum(tf.mul(conv.apply(input), r)) as tf.Scalar;
        const { grads } = tf.variableGrads(loss, [conv.weight, conv.bias!]);
        const inputGrad = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(conv.apply(z), r)))(input);
        return [inputGrad, grads[conv.weight.name]!, grads[conv.bias!.name]!];
      });
    } finally {
      conv.dispose();
    }
  });

  test('the residual and linear kernels, called with our conv and matMul switched off, fall back to tfjs kernels and an add', async () => {
    await selectBackend('webgpu');
    const t = (shape: number[]) => {
      const r = randn(shape);
      return tf.tensor(r.values, shape);
    };
    const [x, filter, bias, residual] = [t([2, 6, 5, 8]), t([3, 3, 8, 12]), t([12]), t([2, 6, 5, 12])];
    const [a, b, rowBias, rows] = [t([9, 8]), t([8, 12]), t([12]), t([9, 12])];
    const convAttrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 };
    const read = async (outputs: tf.Tensor[]) => {
      const values = await Promise.all(outputs.map((o) => o.data()));
      tf.dispose(outputs);
      return values;
    };
    const kernels = () =>
      read([
        tf
          .engine()
          .runKernel('Dalle2jsConv2dResidual', { x, filter, bias, residual }, convAttrs) as tf.Tensor,
        tf.engine().runKernel('Dalle2jsLinear', { a, b, bias: rowBias, residual: rows }) as tf.Tensor,
      ]);
    const expected = await read(
      tf.tidy(() => [
        tf.add(
          tf.fused.conv2d({
            x: x as tf.Tensor4D,
            filter: filter as tf.Tensor4D,
            strides: 1,
            pad: 'same',
            bias,
          }),
          residual,
        ),
        tf.add(tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: rowBias }), rows),
      ]),
    );
    const ours = await kernels();
    setWebGpuKernels({ conv2d: false, matMul: false });
    try {
      const fallback = await kernels();
      for (const [i, actual] of [...ours, ...fallback].entries()) {
        expect(difference(actual, expected[i % 2]!).relative, `output ${i}`).toBeLessThan(
          AGREEMENT_TOLERANCE,
        );
      }
    } finally {
      setWebGpuKernels('default');
      tf.dispose([x, filter, bias, residual, a, b, rowBias, rows]);
    }
  });

  describe.each([
    [
      'all our kernels (implicit-GEMM conv2d and gradients, tiled matMul, GroupNorm programs, fused attention)',
      true,
    ],
    ['tfjs-backend-webgpu kernels and plain ops', false],
  ] as const)('with %s', (_path, ours) => {
    beforeEach(() => setWebGpuKernels(ours ? 'all' : 'none'));
    afterEach(() => setWebGpuKernels('default'));

    test.each([
      {
        label: '3x3, tiles of 64 in both directions, pixel sum split',
        x: [2, 24, 24, 16],
        out: 80,
        k: 3,
        stride: 1,
        pad: 'same',
      },
      { label: '3x3 stride 2, odd sizes', x: [3, 11, 9, 5], out: 7, k: 3, stride: 2, pad: 1 },
      { label: '1x1', x: [1, 8, 8, 12], out: 20, k: 1, stride: 1, pad: 0 },
      { label: '4x4 stride 2, valid', x: [2, 10, 10, 3], out: 4, k: 4, stride: 2, pad: 'valid' },
      // Input gradient: 72 input channels take two blocks of 64 columns; 117 pixels part of a
      // block of 128 rows.
      {
        label: '3x3, two column blocks, rows past the tile',
        x: [1, 9, 13, 72],
        out: 12,
        k: 3,
        stride: 1,
        pad: 1,
      },
      // Few pixels and many channels, as at a U-Net's lowest level: the forward's and the input
      // gradient's inner sums split four ways.
      {
        label: '3x3 at 8 x 8 with 256 channels, inner sums split',
        x: [1, 8, 8, 256],
        out: 256,
        k: 3,
        stride: 1,
        pad: 1,
      },
    ] as const)(
      'conv2d and its filter and input gradients agree: $label',
      async ({ x, out, k, stride, pad }) => {
        const input = randn([...x]);
        const filter = randn([k, k, x[3], out]);
        const xShape = [...x] as [number, number, number, number];
        const info = tf.backend_util.computeConv2DInfo(xShape, [k, k, x[3], out], stride, 1, pad as 'same');
        // A random upstream gradient, drawn once for both backends.
        const upstream = randn([x[0], info.outHeight, info.outWidth, out]);
        const splits = splitSizes(k * k * x[3], out, x[0] * info.outHeight * info.outWidth).splits;
        const compute = () => {
          const xs = tf.tensor4d(input.values, xShape);
          const w = tf.tensor4d(filter.values, [k, k, x[3], out]);
          const r = tf.tensor(upstream.values, upstream.shape);
          const loss = (input: tf.Tensor, filter: tf.Tensor) =>
            tf.sum(tf.mul(tf.conv2d(input as tf.Tensor4D, filter as tf.Tensor4D, stride, pad as 'same'), r));
          return [
            tf.conv2d(xs, w, stride, pad as 'same'),
            tf.grad((z: tf.Tensor) => loss(xs, z))(w),
            tf.grad((z: tf.Tensor) => loss(z, w))(xs),
          ];
        };
        await expectAgreement(compute);
        if (x[1] === 24) expect(splits).toBeGreaterThan(1);
        await expectNoLeaksOnWebgpu(compute);
      },
    );

    test.each([
      // A linear layer's product and both its gradients' (dx = dy W^T, dW = x^T dy): vec4 reads.
      { label: 'plain, rows past the tile', a: [130, 96], b: [96, 72], tA: false, tB: false },
      { label: 'B transposed', a: [64, 48], b: [80, 48], tA: false, tB: true },
      { label: 'A transposed, two blocks each way', a: [40, 136], b: [40, 132], tA: true, tB: false },
      { label: 'both transposed', a: [3, 24, 20], b: [3, 36, 24], tA: true, tB: true },
      // Attention's shapes: batched, q k^T and scores v.
      { label: 'batched, B transposed', a: [6, 70, 32], b: [6, 70, 32], tA: false, tB: true },
      { label: 'batched, plain', a: [6, 70, 70], b: [6, 70, 32], tA: false, tB: false },
      // Sizes not multiples of 4: the scalar reads.
      { label: 'odd sizes', a: [2, 13, 7], b: [2, 7, 9], tA: false, tB: false },
      { label: 'odd sizes, both transposed', a: [5, 11], b: [3, 5], tA: true, tB: true },
      // B broadcast from one batch entry; rank 4.
      { label: 'broadcast B', a: [2, 3, 10, 16], b: [16, 12], tA: false, tB: false },
      { label: 'broadcast A, transposed', a: [1, 16, 10], b: [4, 12, 16], tA: true, tB: true },
      // Few tiles and a long inner sum, as a U-Net's lowest level: the sum is split.
      { label: 'inner sum split, batched', a: [2, 64, 1024], b: [1024, 64], tA: false, tB: false },
    ])('matMul agrees: $label', async ({ a, b, tA, tB }) => {
      const left = randn(a);
      const right = randn(b);
      const compute = () => [tf.matMul(tf.tensor(left.values, a), tf.tensor(right.values, b), tA, tB)];
      await expectAgreement(compute);
      await expectNoLeaksOnWebgpu(compute);
    });

    test.each([
      { label: 'conv 3x3 and matMul', x: [2, 9, 9, 12], out: 20, rows: 70, activation: 'linear' },
      // Few tiles: the inner sums split, and the bias must count once.
      { label: 'inner sums split', x: [1, 8, 8, 256], out: 64, rows: 16, activation: 'linear' },
      // An activation: tfjs' own fused kernels keep the call.
      { label: 'with relu', x: [1, 6, 6, 8], out: 8, rows: 9, activation: 'relu' },
    ] as const)(
      'fused conv2d and matMul with a bias agree, with their gradients: $label',
      async ({ x, out, rows, activation }) => {
        const channels = x[3];
        const input = randn([...x]);
        const filter = randn([3, 3, channels, out]);
        const matrix = randn([rows, channels * 4]);
        const weight = randn([channels * 4, out]);
        const bias = randn([out]);
        const convUpstream = randn([...x.slice(0, 3), out]);
        const matUpstream = randn([rows, out]);
        const compute = () => {
          const [xs, w, m, mw, b] = [
            tf.tensor4d(input.values, [...x]),
            tf.tensor4d(filter.values, [3, 3, channels, out]),
            tf.tensor2d(matrix.values, [rows, channels * 4]),
            tf.tensor2d(weight.values, [channels * 4, out]),
            tf.tensor1d(bias.values),
          ];
          const conv = (z: tf.Tensor4D, f: tf.Tensor4D, c: tf.Tensor) =>
            tf.fused.conv2d({ x: z, filter: f, strides: 1, pad: 'same', bias: c, activation });
          const product = (z: tf.Tensor2D, f: tf.Tensor2D, c: tf.Tensor) =>
            tf.fused.matMul({ a: z, b: f, bias: c, activation });
          const convLoss = (z: tf.Tensor, f: tf.Tensor, c: tf.Tensor) =>
            tf.sum(
              tf.mul(
                conv(z as tf.Tensor4D, f as tf.Tensor4D, c),
                tf.tensor(convUpstream.values, convUpstream.shape),
              ),
            );
          const matLoss = (z: tf.Tensor, f: tf.Tensor, c: tf.Tensor) =>
            tf.sum(
              tf.mul(
                product(z as tf.Tensor2D, f as tf.Tensor2D, c),
                tf.tensor(matUpstream.values, matUpstream.shape),
              ),
            );
          return [
            conv(xs, w, b),
            ...tf.grads((z: tf.Tensor, f: tf.Tensor, c: tf.Tensor) => convLoss(z, f, c))([xs, w, b]),
            product(m, mw, b),
            ...tf.grads((z: tf.Tensor, f: tf.Tensor, c: tf.Tensor) => matLoss(z, f, c))([m, mw, b]),
          ];
        };
        await expectAgreement(compute);
        await expectNoLeaksOnWebgpu(compute);
      },
    );

    test('Sum agrees: over leading axes (a bias gradient), kept or not, chunked; and the cases left to tfjs', async () => {
      const small = randn([2, 5, 3, 70]);
      const long = randn([2051, 36]);
      const compute = () => {
        const x = tf.tensor(small.values, small.shape);
        const rows = tf.tensor(long.values, long.shape);
        return [
          tf.sum(x, [0, 1, 2]),
          tf.sum(x, [0, 1], true),
          tf.sum(x, 0),
          tf.sum(rows, 0), // 2051 rows: cut into 8 chunks, then the chunks added
          tf.sum(x, [1, 2]), // not leading: tfjs' kernel
          tf.sum(x),
        ];
      };
      await expectAgreement(compute);
      await expectNoLeaksOnWebgpu(compute);
      // Dispatches: ours, one program; tfjs', a transpose first.
      const x = tf.tensor(small.values, small.shape);
      const dispatches = countDispatches(() => tf.dispose(tf.sum(x, [0, 1, 2])));
      x.dispose();
      expect(dispatches).toBe(ours ? 1 : 2);
    });

    test.each([
      { label: 'tokens', shape: [2, 70, 64] },
      { label: 'dim not in fours', shape: [9, 10] },
      // More rows than one dispatch dimension holds: tfjs spreads the workgroups over two.
      { label: '66000 rows', shape: [66000, 4] },
    ])('LayerNorm agrees with the plain ops on cpu, with its gradients: $label', async ({ shape }) => {
      await selectBackend('cpu');
      const dim = shape.at(-1)!;
      const norm = new LayerNorm(dim, { eps: 1e-3 });
      const x = randn(shape);
      const upstream = randn(shape);
      const scale = randn([dim]);
      const shift = randn([dim]);
      try {
        await expectAgreement(() => {
          norm.weight.assign(tf.tensor1d(scale.values));
          norm.bias.assign(tf.tensor1d(shift.values));
          const input = tf.add(tf.tensor(x.values, shape), tf.linspace(-2, 3, dim));
          const r = tf.tensor(upstream.values, shape);
          const loss = () => tf.sum(tf.mul(norm.apply(input), r)) as tf.Scalar;
          const { value, grads } = tf.variableGrads(loss, [norm.weight, norm.bias]);
          const inputGrad = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(norm.apply(z), r)))(input);
          return [norm.apply(input), value, inputGrad, grads[norm.weight.name]!, grads[norm.bias.name]!];
        });
        await selectBackend('webgpu');
        const input = tf.tensor(x.values, shape);
        const kernels = (await tf.profile(() => tf.dispose(norm.apply(input)))).kernelNames;
        expect(kernels.includes('Dalle2jsGroupNorm')).toBe(ours);
        await expectNoLeaksOnWebgpu(() => {
          const { value, grads } = tf.variableGrads(
            () => tf.sum(norm.apply(input)) as tf.Scalar,
            [norm.weight],
          );
          return [value, ...Object.values(grads)];
        });
        input.dispose();
      } finally {
        norm.dispose();
      }
    });

    test.each([
      {
        label: 'conv 3x3',
        layer: () => new Conv2d(12, 20, 3, { padding: 1, rng: new TorchGenerator(4) }),
        x: [2, 9, 7, 12],
        y: [2, 9, 7, 20],
      },
      // 150 output pixels on 8 x 8 at 256 channels in: the inner sum splits, and only the first split adds.
      {
        label: 'conv 3x3, inner sum split',
        layer: () => new Conv2d(256, 8, 3, { padding: 'same', rng: new TorchGenerator(4) }),
        x: [1, 8, 8, 256],
        y: [1, 8, 8, 8],
      },
      {
        label: 'linear',
        layer: () => new Linear(24, 36, { rng: new TorchGenerator(4) }),
        x: [3, 11, 24],
        y: [3, 11, 36],
      },
      {
        label: 'linear, inner sum split',
        layer: () => new Linear(2048, 8, { rng: new TorchGenerator(4) }),
        x: [3, 2048],
        y: [3, 8],
      },
    ])(
      'a layer with a residual agrees with the plain ops on cpu, with its gradients, and adds it in its own kernel: $label',
      async ({ layer: make, x: xShape, y: yShape }) => {
        await selectBackend('cpu');
        const layer = make();
        const [weight, bias] = [layer.weight, layer.bias!];
        const x = randn(xShape);
        const residual = randn(yShape);
        const upstream = randn(yShape);
        try {
          await expectAgreement(() => {
            const input = tf.tensor(x.values, xShape);
            const skip = tf.tensor(residual.values, yShape);
            const r = tf.tensor(upstream.values, yShape);
            const apply = (z: tf.Tensor, s: tf.Tensor) =>
              (layer as Conv2d | Linear).apply(z as tf.Tensor4D, { residual: s });
            const loss = () => tf.sum(tf.mul(apply(input, skip), r)) as tf.Scalar;
            const { value, grads } = tf.variableGrads(loss, [weight, bias]);
            const [inputGrad, skipGrad] = tf.grads((z: tf.Tensor, s: tf.Tensor) =>
              tf.sum(tf.mul(apply(z, s), r)),
            )([input, skip]);
            return [apply(input, skip), value, grads[weight.name]!, grads[bias.name]!, inputGrad!, skipGrad!];
          });
          await selectBackend('webgpu');
          const input = tf.tensor(x.values, xShape);
          const skip = tf.tensor(residual.values, yShape);
          const apply = (options = {}) => (layer as Conv2d | Linear).apply(input as tf.Tensor4D, options);
          // Ours: no dispatch for the residual; tfjs': an add after the layer.
          const alone = countDispatches(() => tf.dispose(apply()));
          const withResidual = countDispatches(() => tf.dispose(apply({ residual: skip })));
          expect(withResidual).toBe(ours ? alone : alone + 1);
          await expectNoLeaksOnWebgpu(() => {
            const { value, grads } = tf.variableGrads(
              () => tf.sum(apply({ residual: skip })) as tf.Scalar,
              [weight],
            );
            return [value, ...Object.values(grads)];
          });
          tf.dispose([input, skip]);
        } finally {
          layer.dispose();
        }
      },
    );

    test.each([
      { label: 'with a bias, 3-d input', bias: true, x: [2, 13, 40] },
      { label: 'without a bias, 2-d input', bias: false, x: [26, 40] },
    ])(
      'Linear agrees with the plain ops on cpu, with its gradients, in fewer tfjs kernels: $label',
      async ({ bias, x: xShape }) => {
        await selectBackend('cpu');
        const layer = new Linear(40, 24, { bias, rng: new TorchGenerator(6) });
        const yShape = [...xShape.slice(0, -1), 24];
        const x = randn(xShape);
        const upstream = randn(yShape);
        const params = [layer.weight, ...(layer.bias ? [layer.bias] : [])];
        const step = (input: tf.Tensor, r: tf.Tensor) => {
          const { value, grads } = tf.variableGrads(
            () => tf.sum(tf.mul(layer.apply(input), r)) as tf.Scalar,
            params,
          );
          const inputGrad = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(layer.apply(z), r)))(input);
          return [layer.apply(input), value, inputGrad, ...params.map((p) => grads[p.name]!)];
        };
        try {
          await expectAgreement(() => step(tf.tensor(x.values, xShape), tf.tensor(upstream.values, yShape)));
          await selectBackend('webgpu');
          const input = tf.tensor(x.values, xShape);
          const r = tf.tensor(upstream.values, yShape);
          const kernels = (await tf.profile(() => tf.dispose(step(input, r)))).kernels.map((k) => k.name);
          expect(kernels.includes('Dalle2jsLinear')).toBe(ours);
          setWebGpuKernels('none');
          const tfjsKernels = (await tf.profile(() => tf.dispose(step(input, r)))).kernels.map((k) => k.name);
          setWebGpuKernels(ours ? 'all' : 'none');
          if (ours) expect(kernels.length).toBeLessThan(tfjsKernels.length);
          await expectNoLeaksOnWebgpu(() => step(input, r));
          tf.dispose([input, r]);
        } finally {
          layer.dispose();
        }
      },
    );

    test.each([
      { shape: [2, 6, 5, 32], groups: 8 },
      { shape: [1, 16, 16, 64], groups: 32 },
      { shape: [3, 3, 3, 10], groups: 1 },
    ])('GroupNorm agrees with the plain ops on cpu, $shape / $groups groups', async ({ shape, groups }) => {
      expect(tf.getKernel('Dalle2jsGroupNorm', 'webgpu')).toBeDefined();
      expect(tf.getKernel('Dalle2jsGroupNormGrad', 'webgpu')).toBeDefined();
      expect(tf.getKernel('Dalle2jsGroupNorm', 'cpu')).toBeUndefined();
      await selectBackend('cpu');
      const c = shape[3]!;
      const norm = new GroupNorm(groups, c, { eps: 1e-3 });
      const x = randn(shape);
      const upstream = randn(shape);
      const scale = randn([c]);
      const shift = randn([c]);
      const scaleShift = randn([shape[0]!, 2 * c]);
      try {
        await expectAgreement(() => {
          norm.weight.assign(tf.tensor1d(scale.values));
          norm.bias.assign(tf.tensor1d(shift.values));
          // An offset per channel, so that centring matters.
          const input = tf.add(tf.tensor(x.values, shape), tf.linspace(-2, 3, c));
          const r = tf.tensor(upstream.values, shape);
          // Plain, with SiLU fused in (on cpu: SiLU after the norm), and with a modulation before
          // the SiLU (on cpu: the plain ops), whose gradient comes last.
          const modulation = tf.tensor(scaleShift.values, scaleShift.shape);
          const variants = [
            {},
            { activation: 'silu' as const },
            { activation: 'silu' as const, scaleShift: modulation },
          ];
          return variants.flatMap((options) => {
            const apply = (z: tf.Tensor, m = modulation) =>
              norm.apply(z, options.scaleShift === undefined ? options : { ...options, scaleShift: m });
            const loss = () => tf.sum(tf.mul(apply(input), r)) as tf.Scalar;
            const { value, grads } = tf.variableGrads(loss, [norm.weight, norm.bias]);
            const inputGrad = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(apply(z), r)))(input);
            const modulationGrad =
              options.scaleShift === undefined
                ? []
                : [tf.grad((m: tf.Tensor) => tf.sum(tf.mul(apply(input, m), r)))(modulation)];
            return [
              apply(input),
              value,
              inputGrad,
              grads[norm.weight.name]!,
              grads[norm.bias.name]!,
              ...modulationGrad,
            ];
          });
        });
        // The kernels leave nothing behind on webgpu.
        await selectBackend('webgpu');
        const input = tf.tensor(x.values, shape);
        const run = () => {
          const { value, grads } = tf.variableGrads(
            () => tf.sum(norm.apply(input)) as tf.Scalar,
            [norm.weight],
          );
          tf.dispose([value, ...Object.values(grads)]);
        };
        run();
        const before = tf.memory().numTensors;
        run();
        expect(tf.memory().numTensors).toBe(before);
        // Where no gradient is recorded, no statistics: ours take one dispatch (each epilogue).
        const modulation = tf.tensor(scaleShift.values, scaleShift.shape);
        for (const options of [
          {},
          { activation: 'silu' as const },
          { activation: 'silu' as const, scaleShift: modulation },
        ]) {
          const dispatches = countDispatches(() => tf.dispose(norm.apply(input, options)));
          if (ours) expect(dispatches).toBe(1);
          else expect(dispatches).toBeGreaterThan(2);
        }
        tf.dispose([input, modulation]);
      } finally {
        norm.dispose();
      }
    });

    test.each([
      {
        label: 'self-attention, 70 tokens, heads of 32',
        b: 2,
        t: 70,
        dim: 64,
        heads: 2,
        s: null,
        kvDim: null,
      },
      {
        label: 'cross-attention, 20 queries, 7 keys, heads of 64',
        b: 2,
        t: 20,
        dim: 128,
        heads: 2,
        s: 7,
        kvDim: 24,
      },
      { label: 'one token', b: 1, t: 1, dim: 16, heads: 2, s: null, kvDim: null },
    ])('MultiheadAttention output and gradients agree: $label', async ({ b, t, dim, heads, s, kvDim }) => {
      await selectBackend('webgpu');
      expect(fusedAttentionAvailable(dim / heads)).toBe(ours);
      expect(fusedAttentionAvailable(256)).toBe(false);
      expect(fusedAttentionAvailable(30)).toBe(false);
      await selectBackend('cpu');
      const attention = new MultiheadAttention(dim, heads, {
        ...(kvDim === null ? {} : { kvDim }),
        rng: new TorchGenerator(3),
      });
      const x = randn([b, t, dim]);
      const context = s === null ? null : randn([b, s, kvDim!]);
      const upstream = randn([b, t, dim]);
      const variables = [attention.q_proj.weight, attention.k_proj.weight, attention.v_proj.weight];
      try {
        await expectAgreement(() => {
          const input = tf.tensor(x.values, x.shape);
          const kv = context === null ? undefined : tf.tensor(context.values, context.shape);
          const r = tf.tensor(upstream.values, upstream.shape);
          const attend = (z: tf.Tensor) => attention.apply(z, kv === undefined ? {} : { context: kv });
          const loss = () => tf.sum(tf.mul(attend(input), r)) as tf.Scalar;
          const { grads } = tf.variableGrads(loss, variables);
          const inputGrad = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(attend(z), r)))(input);
          const contextGrad =
            kv === undefined
              ? []
              : [tf.grad((c: tf.Tensor) => tf.sum(tf.mul(attention.apply(input, { context: c }), r)))(kv)];
          return [attend(input), inputGrad, ...contextGrad, ...variables.map((w) => grads[w.name]!)];
        });
      } finally {
        attention.dispose();
      }
    });
  });
});
