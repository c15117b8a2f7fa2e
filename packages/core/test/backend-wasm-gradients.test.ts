import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { selectBackend } from '../src/backend/index.js';
import type { WasmBackend } from '../src/backend/wasm-gradients/override-kernel-on-wasm.js';
import { setWasmSimdKernelsEnabled, simdKernels } from '../src/backend/wasm-simd/simd-kernels.js';
import { Conv2d, GroupNorm, Linear } from '../src/layers/index.js';
import { TorchGenerator } from '../src/random/index.js';

type Pad =
  | 'same'
  | 'valid'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];

beforeAll(async () => {
  await selectBackend('wasm');
  await tf.setBackend('cpu');
});

/** Deterministic uniform numbers in [-1, 1) (mulberry32). */
function randomValues(size: number, seed: number): Float32Array {
  const values = new Float32Array(size);
  let state = seed >>> 0;
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return values;
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Runs `grads` (which returns gradient tensors) on a backend and reads them back. */
async function gradientsOn(backend: 'cpu' | 'wasm', grads: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  try {
    const tensors = grads();
    const values = await Promise.all(tensors.map((t) => t.data() as Promise<Float32Array>));
    tf.dispose(tensors);
    return values;
  } finally {
    await tf.setBackend('cpu');
  }
}

/** The largest difference, relative to the largest entry of `expected`. */
function relativeDifference(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  let difference = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    difference = Math.max(difference, Math.abs(actual[i]! - expected[i]!));
  }
  expect(scale).toBeGreaterThan(0);
  return difference / scale;
}

/** wasm's gradients agree with the cpu backend's (tfjs' own gradients) to 1e-4 relative. */
async function expectWasmMatchesCpu(grads: () => tf.Tensor[]): Promise<void> {
  const cpu = await gradientsOn('cpu', grads);
  const wasm = await gradientsOn('wasm', grads);
  cpu.forEach((expected, i) => {
    expect(relativeDifference(wasm[i]!, expected)).toBeLessThan(1e-4);
  });
}

/** No tensor survives a gradient call on wasm whose results are disposed. */
async function expectNoLeakOnWasm(grads: () => tf.Tensor[]): Promise<void> {
  await tf.setBackend('wasm');
  try {
    tf.dispose(grads());
    const before = tf.memory().numTensors;
    tf.dispose(grads());
    expect(tf.memory().numTensors).toBe(before);
  } finally {
    await tf.setBackend('cpu');
  }
}

/** Gradients of sum(op(...) * r) with a fixed random r, so that `dy` is not all ones. */
function weightedSumGrads(
  op: (...inputs: tf.Tensor[]) => tf.Tensor,
  inputs: { shape: number[]; seed: number }[],
): () => tf.Tensor[] {
  return () =>
    tf.tidy(() => {
      const tensors = inputs.map(({ shape, seed }) => tf.tensor(randomValues(sizeOf(shape), seed), shape));
      const loss = (...xs: tf.Tensor[]) => {
        const y = op(...xs);
        return tf.sum(tf.mul(y, tf.tensor(randomValues(y.size, 99), y.shape)));
      };
      return tf.grads(loss)(tensors);
    });
}

/** Both ways the memory kernels run on wasm: the SIMD kernels and plain loops. */
const memoryPaths: [string, boolean][] = [
  ['SIMD kernels', true],
  ['plain loops', false],
];

/** Runs `body` with the wasm SIMD kernels on or off, and turns them back on. */
async function withSimd<T>(on: boolean, body: () => Promise<T>): Promise<T> {
  setWasmSimdKernelsEnabled(on);
  try {
    return await body();
  } finally {
    setWasmSimdKernelsEnabled(true);
  }
}

// The gradients' slices, concats and transposes run on the SIMD kernels or on plain loops.
describe.each(memoryPaths)('Conv2D gradient on wasm, %s', (_path, simd) => {
  const cases: [string, number[], number[], number | [number, number], Pad][] = [
    ['3x3 stride 1 same', [2, 8, 8, 3], [3, 3, 3, 4], 1, 'same'],
    ['3x3 stride 2 same', [2, 8, 8, 3], [3, 3, 3, 4], 2, 'same'],
    ['3x3 stride 2 same, odd size', [1, 7, 9, 2], [3, 3, 2, 5], 2, 'same'],
    ['3x3 stride 1 valid', [2, 7, 6, 3], [3, 3, 3, 2], 1, 'valid'],
    ['3x3 stride 2 valid, uncovered last row', [1, 8, 8, 2], [3, 3, 2, 3], 2, 'valid'],
    ['4x4 stride 2 numeric pad 1', [2, 8, 8, 3], [4, 4, 3, 4], 2, 1],
    [
      '3x2 stride [2, 1] explicit pad',
      [1, 9, 7, 2],
      [3, 2, 2, 3],
      [2, 1],
      [
        [0, 0],
        [1, 2],
        [2, 0],
        [0, 0],
      ],
    ],
    [
      'explicit pad wider than the filter',
      [1, 5, 5, 2],
      [3, 3, 2, 2],
      2,
      [
        [0, 0],
        [4, 3],
        [3, 4],
        [0, 0],
      ],
    ],
    ['1x1 stride 1 valid', [2, 5, 5, 6], [1, 1, 6, 4], 1, 'valid'],
    ['1x1 stride 2 valid', [2, 6, 6, 3], [1, 1, 3, 4], 2, 'valid'],
    // Over 256 input channels the filter gradient takes one matMul per tap instead of one in all.
    ['3x3 stride 1 same, 260 input channels', [1, 5, 4, 260], [3, 3, 260, 3], 1, 'same'],
    ['3x3 stride 2 same, 260 input channels', [2, 6, 5, 260], [3, 3, 260, 2], 2, 'same'],
    // From about 32 px, stride 1, the filter gradient's taps run along whole framed rows.
    ['along rows: 3x3 stride 1 same', [1, 32, 30, 2], [3, 3, 2, 3], 1, 'same'],
    ['along rows: 3x3 stride 1 valid, batch 2', [2, 34, 32, 2], [3, 3, 2, 3], 1, 'valid'],
    ['along rows: 260 input channels', [1, 32, 30, 260], [3, 3, 260, 2], 1, 'same'],
    [
      'along rows: 2x3 explicit uneven pad',
      [1, 30, 32, 2],
      [2, 3, 2, 2],
      1,
      [
        [0, 0],
        [1, 0],
        [0, 2],
        [0, 0],
      ],
    ],
    // With few pixels for the output channels the input gradient is one matMul and a sum of taps.
    ['few pixels: 3x3 stride 1 same', [1, 3, 4, 5], [3, 3, 5, 16], 1, 'same'],
    ['few pixels: 3x3 stride 1 valid', [2, 4, 4, 3], [3, 3, 3, 20], 1, 'valid'],
    ['few pixels: 1x1', [1, 2, 2, 6], [1, 1, 6, 8], 1, 'valid'],
    [
      'few pixels: 2x3 explicit uneven pad',
      [1, 3, 3, 4],
      [2, 3, 4, 24],
      1,
      [
        [0, 0],
        [2, 0],
        [0, 1],
        [0, 0],
      ],
    ],
  ];
  test.each(cases)('%s agrees with cpu', async (_, xShape, wShape, strides, pad) => {
    const grads = weightedSumGrads(
      (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, pad),
      [
        { shape: xShape, seed: 1 },
        { shape: wShape, seed: 2 },
      ],
    );
    await withSimd(simd, () => expectWasmMatchesCpu(grads));
  });

  test('leaks no tensors', async () => {
    const grads = weightedSumGrads(
      (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
      [
        { shape: [1, 6, 6, 2], seed: 3 },
        { shape: [3, 3, 2, 2], seed: 4 },
      ],
    );
    await expectNoLeakOnWasm(grads);
  });

  test('runs plain ops on wasm and tfjs backprop kernels on cpu', async () => {
    const grads = weightedSumGrads(
      (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
      [
        { shape: [1, 6, 6, 2], seed: 5 },
        { shape: [3, 3, 2, 2], seed: 6 },
      ],
    );
    const kernelsOn = async (backend: string) => {
      await tf.setBackend(backend);
      try {
        const profile = await tf.profile(() => tf.dispose(grads()));
        return profile.kernelNames;
      } finally {
        await tf.setBackend('cpu');
      }
    };
    expect(await kernelsOn('cpu')).toEqual(
      expect.arrayContaining(['Conv2DBackpropInput', 'Conv2DBackpropFilter']),
    );
    const wasm = await kernelsOn('wasm');
    expect(wasm).not.toContain('Conv2DBackpropInput');
    expect(wasm).not.toContain('Conv2DBackpropFilter');
  });
});

test('a Conv2d and a Linear with a bias train on wasm: the conv unfused there, both fused outside gradients', async () => {
  const conv = new Conv2d(3, 4, 3, { padding: 'same', rng: new TorchGenerator(7) });
  const linear = new Linear(4, 5, { rng: new TorchGenerator(8) });
  const apply = (x: tf.Tensor) => linear.apply(conv.apply(x));
  const variables = [conv.weight, conv.bias!, linear.weight, linear.bias!];
  try {
    // tfjs' gradient of tf.fused.conv2d calls Conv2DBackpropFilter, which wasm lacks.
    await expectWasmMatchesCpu(() =>
      tf.tidy(() => {
        const x = tf.tensor(randomValues(2 * 5 * 5 * 3, 63), [2, 5, 5, 3]);
        const r = tf.tensor(randomValues(2 * 5 * 5 * 5, 64), [2, 5, 5, 5]);
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(apply(x), r)) as tf.Scalar, variables);
        return [
          ...variables.map((v) => grads[v.name]!),
          tf.grad((z: tf.Tensor) => tf.sum(tf.mul(apply(z), r)))(x),
        ];
      }),
    );
    await tf.setBackend('wasm');
    const x = tf.tensor(randomValues(2 * 5 * 5 * 3, 63), [2, 5, 5, 3]);
    const kernels = (await tf.profile(() => tf.dispose(apply(x)))).kernelNames;
    expect(kernels).toEqual(expect.arrayContaining(['FusedConv2D', '_FusedMatMul']));
    expect(kernels).not.toContain('Add');
    x.dispose();
  } finally {
    await tf.setBackend('cpu');
    conv.dispose();
    linear.dispose();
  }
});

test('the input gradient of a conv with few pixels for its channels runs no second conv on wasm', async () => {
  await tf.setBackend('wasm');
  try {
    const convsIn = async (xShape: number[], filterShape: [number, number, number, number]) => {
      const w = tf.tensor(randomValues(sizeOf(filterShape), 62), filterShape) as tf.Tensor4D;
      const x = tf.tensor(randomValues(sizeOf(xShape), 61), xShape);
      const profile = await tf.profile(() =>
        tf.dispose(tf.grad((p: tf.Tensor) => tf.sum(tf.conv2d(p as tf.Tensor4D, w, 1, 'same')))(x)),
      );
      tf.dispose([w, x]);
      return profile.kernels.filter((kernel) => kernel.name === 'Conv2D').length;
    };
    expect(await convsIn([1, 3, 4, 5], [3, 3, 5, 16])).toBe(1); // 12 pixels, 16 channels: a matMul
    expect(await convsIn([1, 8, 8, 5], [3, 3, 5, 16])).toBe(2); // 64 pixels: a conv
  } finally {
    await tf.setBackend('cpu');
  }
});

describe('Conv2DBackpropInput (conv2dTranspose) gradient on wasm', () => {
  const cases: [string, number[], number[], number[], number, 'same' | 'valid'][] = [
    ['stride 2 same', [2, 4, 4, 3], [3, 3, 2, 3], [2, 8, 8, 2], 2, 'same'],
    ['stride 1 same', [1, 5, 5, 2], [3, 3, 4, 2], [1, 5, 5, 4], 1, 'same'],
    ['stride 2 valid', [1, 3, 3, 2], [3, 3, 3, 2], [1, 7, 7, 3], 2, 'valid'],
  ];
  test.each(cases)('%s agrees with cpu', async (_, xShape, wShape, outShape, stride, pad) => {
    const grads = weightedSumGrads(
      (x, w) =>
        tf.conv2dTranspose(
          x as tf.Tensor4D,
          w as tf.Tensor4D,
          outShape as [number, number, number, number],
          stride,
          pad,
        ),
      [
        { shape: xShape, seed: 7 },
        { shape: wShape, seed: 8 },
      ],
    );
    await expectWasmMatchesCpu(grads);
  });

  test('leaks no tensors', async () => {
    const grads = weightedSumGrads(
      (x, w) => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [1, 6, 6, 2], 2, 'same'),
      [
        { shape: [1, 3, 3, 2], seed: 9 },
        { shape: [3, 3, 2, 2], seed: 10 },
      ],
    );
    await expectNoLeakOnWasm(grads);
  });
});

describe('GatherV2 gradient on wasm', () => {
  const randomIndices = (count: number, rows: number, seed: number) =>
    Array.from(randomValues(count, seed), (v) => Math.floor(((v + 1) / 2) * rows));

  const gatherGrads = (
    xShape: number[],
    indices: number[],
    indicesShape: number[],
    axis = 0,
    batchDims = 0,
  ) =>
    weightedSumGrads(
      (x) => tf.gather(x, tf.tensor(indices, indicesShape, 'int32'), axis, batchDims),
      [{ shape: xShape, seed: 11 }],
    );

  test('embedding rows with repeated indices', async () => {
    await expectWasmMatchesCpu(gatherGrads([10, 4], [1, 3, 3, 7, 1, 1, 0, 9], [2, 4]));
  });

  test('a 49408-row vocabulary', async () => {
    // The cpu backend's UnsortedSegmentSum loops over every row (about 40 s here), so the
    // reference is summed in plain JS: row i of the gradient adds up r's rows that gathered i.
    const [rows, width] = [49408, 8];
    const indices = [...randomIndices(300, rows, 12), rows - 1, rows - 1, 0];
    const r = randomValues(indices.length * width, 99);
    const expected = new Float32Array(rows * width);
    indices.forEach((row, i) => {
      for (let j = 0; j < width; j++) expected[row * width + j]! += r[i * width + j]!;
    });
    const [actual] = await gradientsOn('wasm', gatherGrads([rows, width], indices, [indices.length]));
    expect(relativeDifference(actual!, expected)).toBeLessThan(1e-6);
  });

  test('a middle axis', async () => {
    await expectWasmMatchesCpu(gatherGrads([3, 6, 2, 4], [5, 0, 5, 2, 2], [5], 1));
  });

  test('a negative axis', async () => {
    await expectWasmMatchesCpu(gatherGrads([2, 3, 5], [4, 4, 1], [3], -1));
  });

  test('batchDims 1', async () => {
    const grads = () =>
      tf.tidy(() => {
        // tfjs' own batched gather gradient uses chained ops, so the cpu reference is built per batch.
        const x = tf.tensor(randomValues(3 * 5 * 2, 13), [3, 5, 2]);
        const indices = tf.tensor([0, 4, 4, 1, 1, 1, 2, 3, 0], [3, 3], 'int32');
        const r = tf.tensor(randomValues(3 * 3 * 2, 14), [3, 3, 2]);
        if (tf.getBackend() === 'wasm') {
          return [tf.grad((p: tf.Tensor) => tf.sum(tf.mul(tf.gather(p, indices, 1, 1), r)))(x)];
        }
        const perBatch = (p: tf.Tensor) =>
          tf.stack(
            [0, 1, 2].map((b) =>
              tf.gather(
                tf.squeeze(tf.slice(p, [b, 0, 0], [1, 5, 2]), [0]),
                tf.squeeze(tf.slice(indices, [b, 0], [1, 3]), [0]),
              ),
            ),
          );
        return [tf.grad((p: tf.Tensor) => tf.sum(tf.mul(perBatch(p), r)))(x)];
      });
    await expectWasmMatchesCpu(grads);
  });

  test('leaks no tensors', async () => {
    await expectNoLeakOnWasm(gatherGrads([6, 3], [0, 5, 5, 2], [4]));
  });
});

describe('MaxPool gradient on wasm', () => {
  const cases: [string, number[], number, number, 'same' | 'valid'][] = [
    ['2x2 stride 2 valid', [2, 8, 8, 3], 2, 2, 'valid'],
    ['3x3 stride 2 same', [2, 7, 7, 3], 3, 2, 'same'],
    ['3x3 stride 1 same (overlapping windows)', [2, 8, 8, 4], 3, 1, 'same'],
    ['2x2 stride 1 valid', [1, 5, 6, 2], 2, 1, 'valid'],
    ['3x3 stride 2 valid, uncovered last row', [1, 8, 8, 2], 3, 2, 'valid'],
  ];
  test.each(cases)('%s agrees with cpu', async (_, xShape, filterSize, stride, pad) => {
    const grads = weightedSumGrads(
      (x) => tf.maxPool(x as tf.Tensor4D, filterSize, stride, pad),
      [{ shape: xShape, seed: 15 }],
    );
    await expectWasmMatchesCpu(grads);
  });

  test('ties go to the first max in the window, as on cpu', async () => {
    const grads = () =>
      tf.tidy(() => {
        // Values in {-1, 0, 1}: most windows have several maxima.
        const x = tf.round(tf.tensor(randomValues(2 * 6 * 6 * 2, 16), [2, 6, 6, 2])) as tf.Tensor4D;
        const r = tf.tensor(randomValues(2 * 6 * 6 * 2, 17), [2, 6, 6, 2]);
        return [tf.grad((p: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(p as tf.Tensor4D, 3, 1, 'same'), r)))(x)];
      });
    await expectWasmMatchesCpu(grads);
  });

  test("wasm's own MaxPoolGrad is wrong for overlapping windows (why the override exists)", async () => {
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      try {
        const result = tf.tidy(() => {
          const x = tf.tensor(randomValues(2 * 8 * 8 * 4, 18), [2, 8, 8, 4]) as tf.Tensor4D;
          const y = tf.maxPool(x, 3, 1, 'same');
          const dy = tf.tensor(randomValues(y.size, 19), y.shape);
          const attrs = { filterSize: 3, strides: 1, pad: 'same' };
          return tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs) as tf.Tensor;
        });
        const values = (await result.data()) as Float32Array;
        result.dispose();
        return values;
      } finally {
        await tf.setBackend('cpu');
      }
    };
    expect(relativeDifference(await run('wasm'), await run('cpu'))).toBeGreaterThan(0.1);
  });

  test('leaks no tensors', async () => {
    await expectNoLeakOnWasm(
      weightedSumGrads(
        (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same'),
        [{ shape: [1, 5, 5, 2], seed: 20 }],
      ),
    );
  });
});

describe('BatchMatMul on wasm (every product on XNNPACK)', () => {
  const cases: [string, number[], number[], boolean, boolean][] = [
    ['2-D plain', [5, 7], [7, 3], false, false],
    ['2-D transposeA', [7, 5], [7, 3], true, false],
    ['2-D transposeB', [5, 7], [3, 7], false, true],
    ['2-D both transposed', [7, 5], [3, 7], true, true],
    ['batched (attention scores)', [2, 3, 6, 4], [2, 3, 5, 4], false, true],
    ['batched (attention values)', [2, 3, 6, 5], [2, 3, 5, 4], false, false],
    ['batched transposeA', [4, 5, 6], [4, 5, 3], true, false],
    ['a batched, b shared 2-D', [3, 4, 6, 5], [5, 2], false, false],
    ['a batched, b shared with batch axes of 1', [3, 6, 5], [1, 1, 2, 5], false, true],
    ['a shared, b batched (left to wasm itself)', [1, 6, 5], [3, 5, 2], false, false],
    // Batch entries of 2^16 multiply-adds and more get an XNNPACK product each; smaller go to wasm.
    ['batched, large entries', [2, 3, 40, 40], [2, 3, 40, 48], false, false],
    ['batched transposeB, large entries', [2, 2, 48, 40], [2, 2, 40, 40], false, true],
    ['batched transposeA, large entries', [3, 40, 48], [3, 40, 40], true, false],
    // a b^T with few rows in a runs as (b a^T)^T.
    ['2-D transposeB, few rows', [3, 40], [50, 40], false, true],
    ['2-D transposeB, one row', [1, 64], [30, 64], false, true],
  ];
  test.each(cases)(
    '%s agrees with cpu, forward and gradients',
    async (_, aShape, bShape, transposeA, transposeB) => {
      const product = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, transposeA, transposeB);
      const forward = () => [
        tf.tidy(() =>
          product(
            tf.tensor(randomValues(sizeOf(aShape), 21), aShape),
            tf.tensor(randomValues(sizeOf(bShape), 22), bShape),
          ),
        ),
      ];
      const cpu = await gradientsOn('cpu', forward);
      const wasm = await gradientsOn('wasm', forward);
      expect(relativeDifference(wasm[0]!, cpu[0]!)).toBeLessThan(1e-5);
      if (sizeOf(aShape.slice(0, -2)) !== sizeOf(bShape.slice(0, -2))) return; // tfjs has no broadcast gradient
      await expectWasmMatchesCpu(
        weightedSumGrads(product, [
          { shape: aShape, seed: 23 },
          { shape: bShape, seed: 24 },
        ]),
      );
    },
  );

  test('mismatched inner dimensions throw as on cpu', async () => {
    const mismatched = () =>
      tf.tidy(() => [tf.matMul(tf.ones([2, 3, 40, 40]), tf.ones([2, 3, 41, 40]), false, false)]);
    await expect(gradientsOn('cpu', mismatched)).rejects.toThrow(/inner shapes \(40\) and \(41\)/);
    await expect(gradientsOn('wasm', mismatched)).rejects.toThrow(/inner shapes \(40\) and \(41\)/);
  });

  test('leaves no tensor and no backend data behind', async () => {
    await tf.setBackend('wasm');
    try {
      const run = () =>
        tf.tidy(() => {
          const a = tf.tensor(randomValues(2 * 3 * 6 * 4, 25), [2, 3, 6, 4]);
          const b = tf.tensor(randomValues(2 * 3 * 5 * 4, 26), [2, 3, 5, 4]);
          const w = tf.tensor(randomValues(4 * 2, 27), [4, 2]);
          const c = tf.tensor(randomValues(2 * 3 * 5 * 6, 28), [2, 3, 5, 6]);
          const big = tf.tensor(randomValues(2 * 40 * 40, 29), [2, 40, 40]);
          return [
            tf.matMul(a, b, false, true),
            tf.matMul(a, w),
            tf.matMul(a, c, true, true),
            tf.matMul(big, big, false, true),
            tf.matMul(tf.slice(tf.reshape(a, [36, 4]), 0, 2), tf.reshape(b, [30, 4]), false, true),
          ];
        });
      tf.dispose(run());
      const before = { tensors: tf.memory().numTensors, data: tf.engine().backend.numDataIds() };
      const outputs = run();
      expect(tf.engine().backend.numDataIds()).toBe(before.data + outputs.length);
      tf.dispose(outputs);
      expect({ tensors: tf.memory().numTensors, data: tf.engine().backend.numDataIds() }).toEqual(before);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});

describe('SIMD kernels on wasm', () => {
  test('load on the wasm backend heap, and only while turned on', async () => {
    await tf.setBackend('wasm');
    try {
      const backend = tf.engine().backend as unknown as WasmBackend;
      expect(simdKernels(backend)).toBeDefined();
      await withSimd(false, async () => expect(simdKernels(backend)).toBeUndefined());
    } finally {
      await tf.setBackend('cpu');
    }
  });

  test('the committed binary is what kernels.wat assembles to', () => {
    const script = fileURLToPath(new URL('../scripts/build-wasm-kernels.mjs', import.meta.url));
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});

describe.each(memoryPaths)('Slice on wasm (copies only the slice), %s', (_path, simd) => {
  const cases: [string, number[], number[], number[]][] = [
    ['contiguous rows', [6, 5], [2, 0], [3, 5]],
    ['a batch entry', [4, 3, 5], [2, 0, 0], [1, 3, 5]],
    ['columns of a matrix', [4, 7], [1, 2], [3, 4]],
    ['a 4-D window (a filter tap)', [5, 2, 9, 8], [1, 0, 1, 2], [3, 2, 6, 5]],
    ['middle axis only', [3, 6, 4], [0, 2, 0], [3, 3, 4]],
    ['to the end (size -1)', [4, 5, 6], [1, 2, 3], [-1, -1, -1]],
    ['rank 6', [2, 3, 2, 3, 2, 4], [1, 1, 0, 1, 1, 1], [1, 2, 2, 1, 1, 3]],
    ['the whole tensor', [3, 4], [0, 0], [3, 4]],
    ['empty', [3, 4], [1, 1], [0, 2]],
  ];
  test.each(cases)('%s agrees with cpu for float32, int32 and bool', async (_, shape, begin, size) => {
    const slices = () =>
      tf.tidy(() => {
        const x = tf.tensor(randomValues(sizeOf(shape), 31), shape);
        const ints = tf.cast(tf.mul(x, 1000), 'int32');
        return [
          tf.slice(x, begin, size),
          tf.slice(ints, begin, size),
          tf.slice(tf.greater(x, 0), begin, size),
        ];
      });
    const cpu = await gradientsOn('cpu', slices);
    const wasm = await withSimd(simd, () => gradientsOn('wasm', slices));
    expect(wasm.map((values) => Array.from(values))).toEqual(cpu.map((values) => Array.from(values)));
    expect(cpu[0]!.length).toBe(sizeOf(size.map((s, i) => (s === -1 ? shape[i]! - begin[i]! : s))));
  });

  test.each([
    ['split into equal parts on the first axis', [6, 4, 5], 0, 3],
    ['split into sizes on a middle axis', [3, 7, 4], 1, [2, 4, 1]],
    ['split on the last axis', [2, 3, 6], -1, 2],
  ] as [string, number[], number, number | number[]][])(
    '%s agrees with cpu',
    async (_, shape, axis, splits) => {
      const parts = () =>
        tf.tidy(() => tf.split(tf.tensor(randomValues(sizeOf(shape), 32), shape), splits, axis));
      const wasm = await withSimd(simd, () => gradientsOn('wasm', parts));
      expect(wasm).toEqual(await gradientsOn('cpu', parts));
    },
  );

  test.each([0, 1, 2, -1])('unstack on axis %i agrees with cpu', async (axis) => {
    const shape = [3, 4, 2, 5];
    const pieces = () => tf.tidy(() => tf.unstack(tf.tensor(randomValues(sizeOf(shape), 33), shape), axis));
    const cpu = await gradientsOn('cpu', pieces);
    const wasm = await withSimd(simd, () => gradientsOn('wasm', pieces));
    expect(wasm).toEqual(cpu);
    expect(cpu.length).toBe(shape.at(axis));
  });

  test('split, unstack and strings still work', async () => {
    await tf.setBackend('wasm');
    try {
      const parts = tf.split(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), [1, 2], 1);
      expect(await Promise.all(parts.map((t) => t.array()))).toEqual([
        [[1], [4]],
        [
          [2, 3],
          [5, 6],
        ],
      ]);
      const rows = tf.unstack(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]));
      expect(rows.map((t) => t.shape)).toEqual([[3], [3]]);
      expect(await rows[1]!.array()).toEqual([4, 5, 6]);
      tf.dispose([...parts, ...rows]);
      const words = tf.tensor1d(['a', 'b', 'c'], 'string');
      const picked = tf.slice(words, 1, 2);
      expect(await picked.array()).toEqual(['b', 'c']);
      tf.dispose([words, picked]);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});

describe('Identity on wasm (shares memory)', () => {
  test('a clone shares its data, outlives its source and agrees with it; no backend data is left behind', async () => {
    await tf.setBackend('wasm');
    try {
      const backend = tf.engine().backend;
      const before = backend.numDataIds();
      const x = tf.tensor(randomValues(24, 41), [2, 3, 4]);
      const copy = tf.clone(x);
      expect(backend.numDataIds()).toBe(before + 1);
      const expected = await x.data();
      x.dispose();
      expect(await copy.data()).toEqual(expected);
      copy.dispose();
      expect(backend.numDataIds()).toBe(before);
    } finally {
      await tf.setBackend('cpu');
    }
  });

  test('the tensors a gradient saves (through Identity) take no new wasm memory', async () => {
    await tf.setBackend('wasm');
    try {
      const backend = tf.engine().backend;
      const x = tf.tensor(randomValues(64 * 32, 42), [64, 32]);
      const w = tf.variable(tf.tensor(randomValues(32 * 32, 43), [32, 32]));
      // Backend buffers that the forward pass creates: with and without tfjs saving tensors for backward.
      const created = { plain: 0, recorded: 0 };
      const loss = (mode: keyof typeof created) => () => {
        const before = backend.numDataIds();
        const y = tf.sum(tf.sigmoid(tf.matMul(tf.sigmoid(tf.matMul(x, w)), w))) as tf.Scalar;
        created[mode] = backend.numDataIds() - before;
        return y;
      };
      tf.tidy(loss('plain'));
      const { value, grads } = tf.variableGrads(loss('recorded'));
      tf.dispose([value, ...Object.values(grads), x, w]);
      expect(created.plain).toBeGreaterThan(0);
      expect(created.recorded).toBe(created.plain);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});

describe.each(memoryPaths)('Concat on wasm, %s', (_path, simd) => {
  const cases: [string, number[][], number][] = [
    [
      'along channels (a skip connection)',
      [
        [2, 3, 5, 8],
        [2, 3, 5, 4],
      ],
      3,
    ],
    [
      'along the first axis',
      [
        [3, 7],
        [2, 7],
        [4, 7],
      ],
      0,
    ],
    [
      'along a middle axis, odd sizes',
      [
        [2, 3, 5],
        [2, 1, 5],
        [2, 4, 5],
      ],
      1,
    ],
    [
      'with an empty input',
      [
        [2, 0, 3],
        [2, 2, 3],
        [2, 1, 3],
      ],
      1,
    ],
  ];
  test.each(cases)('%s agrees with cpu for float32, int32 and bool', async (_, shapes, axis) => {
    const joined = () =>
      tf.tidy(() => {
        const xs = shapes.map((shape, i) => tf.tensor(randomValues(sizeOf(shape), 61 + i), shape));
        const ints = xs.map((x) => tf.cast(tf.mul(x, 1000), 'int32'));
        const bools = xs.map((x) => tf.greater(x, 0));
        return [tf.concat(xs, axis), tf.concat(ints, axis), tf.concat(bools, axis)];
      });
    const cpu = await gradientsOn('cpu', joined);
    const wasm = await withSimd(simd, () => gradientsOn('wasm', joined));
    expect(wasm).toEqual(cpu);
    expect(cpu[0]!.length).toBe(shapes.reduce((total, shape) => total + sizeOf(shape), 0));
  });
});

describe.each(memoryPaths)('Transpose on wasm (blocked matrix transposes), %s', (_path, simd) => {
  const cases: [string, number[], number[]][] = [
    ['a batch of matrices', [3, 300, 257], [0, 2, 1]],
    ['one matrix, odd sizes', [301, 233], [1, 0]],
    ['channels first, axes of size 1 dropped', [1, 400, 1, 170], [0, 2, 3, 1]],
    ['a 4-D batch of matrices', [2, 3, 130, 90], [0, 1, 3, 2]],
    ['sides in fours (the SIMD kernel where it runs)', [2, 256, 132], [0, 2, 1]],
    ['a wide matrix, sides in fours', [8, 9000], [1, 0]],
    ['another permutation (left to wasm)', [40, 50, 40], [2, 0, 1]],
    ['a small matrix (left to wasm)', [5, 7], [1, 0]],
  ];
  test.each(cases)('%s agrees with cpu for float32, int32 and bool', async (_, shape, perm) => {
    const transposed = () =>
      tf.tidy(() => {
        const x = tf.tensor(randomValues(sizeOf(shape), 51), shape);
        const ints = tf.cast(tf.mul(x, 1000), 'int32');
        return [tf.transpose(x, perm), tf.transpose(ints, perm), tf.transpose(tf.greater(x, 0), perm)];
      });
    const cpu = await gradientsOn('cpu', transposed);
    const wasm = await withSimd(simd, () => gradientsOn('wasm', transposed));
    expect(wasm).toEqual(cpu);
  });
});

describe('GroupNorm on wasm (fused kernels)', () => {
  const cases: [string, number[], number][] = [
    ['a U-Net activation', [2, 8, 8, 32], 8],
    ['a larger sample', [1, 32, 32, 64], 32],
    ['one channel per group', [1, 5, 3, 8], 8],
    ['channels not in fours', [1, 5, 3, 6], 6],
    ['one group', [3, 4, 4, 10], 1],
  ];
  describe.each(memoryPaths)('%s', (_path, simd) => {
    test.each(cases)('%s: output and gradients agree with the plain ops on cpu', async (_, shape, groups) => {
      const c = shape[3]!;
      expect(tf.getKernel('Dalle2jsGroupNorm', 'wasm')).toBeDefined();
      expect(tf.getKernel('Dalle2jsGroupNorm', 'cpu')).toBeUndefined();
      const norm = new GroupNorm(groups, c, { eps: 1e-3 });
      tf.tidy(() => {
        norm.weight.assign(tf.tensor(randomValues(c, 71)));
        norm.bias.assign(tf.tensor(randomValues(c, 72)));
      });
      const run = () =>
        tf.tidy(() => {
          // An offset mean per channel, so that centring matters.
          const x = tf.add(tf.mul(tf.tensor(randomValues(sizeOf(shape), 73), shape), 3), 0.5);
          const r = tf.tensor(randomValues(sizeOf(shape), 74), shape);
          const { value, grads } = tf.variableGrads(
            () => tf.sum(tf.mul(norm.apply(x), r)),
            [norm.weight, norm.bias],
          );
          const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(norm.apply(input), r)))(x);
          return [norm.apply(x), value, dx, grads[norm.weight.name]!, grads[norm.bias.name]!];
        });
      const cpu = await gradientsOn('cpu', run);
      await withSimd(simd, async () => {
        const wasm = await gradientsOn('wasm', run);
        cpu.forEach((expected, i) => {
          expect(relativeDifference(wasm[i]!, expected)).toBeLessThan(1e-5);
        });
        await expectNoLeakOnWasm(run);
      });
      norm.dispose();
    });
  });
});
