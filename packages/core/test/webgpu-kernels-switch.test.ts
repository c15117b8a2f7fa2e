import { afterEach, describe, expect, test } from 'vitest';
import { DEFAULT_WEBGPU_KERNELS, setWebGpuKernels, webGpuKernels } from '../src/backend/index.js';
import { planMatMul } from '../src/backend/webgpu-kernels/batch-matmul-webgpu.js';
import { filterGradTiling } from '../src/backend/webgpu-kernels/conv2d-filter-grad-program.js';
import {
  inputGradSharedBytes,
  inputGradTiling,
} from '../src/backend/webgpu-kernels/conv2d-input-grad-program.js';
import { conv2dSharedBytes, conv2dTiling } from '../src/backend/webgpu-kernels/conv2d-program.js';
import { columnSumChunks, leadingAxes } from '../src/backend/webgpu-kernels/leading-sum-webgpu.js';
import { matMulSharedBytes, matMulTiling } from '../src/backend/webgpu-kernels/matmul-program.js';
import { splitInner } from '../src/backend/webgpu-kernels/tiled-gemm.js';

afterEach(() => setWebGpuKernels('default'));

describe('setWebGpuKernels', () => {
  test('starts from the defaults: fused attention off until measured on a GPU', () => {
    expect(webGpuKernels()).toEqual({
      groupNorm: true,
      conv2d: true,
      conv2dFilterGrad: true,
      conv2dInputGrad: true,
      matMul: true,
      sum: true,
      softmax: true,
      optimizer: true,
      attention: false,
    });
    expect(webGpuKernels()).toEqual(DEFAULT_WEBGPU_KERNELS);
  });

  test("'all', 'none', some by name, then 'default' again", () => {
    setWebGpuKernels('all');
    expect(Object.values(webGpuKernels())).toEqual([true, true, true, true, true, true, true, true, true]);
    setWebGpuKernels('none');
    expect(Object.values(webGpuKernels())).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    setWebGpuKernels({ attention: true });
    expect(webGpuKernels()).toEqual({
      groupNorm: false,
      conv2d: false,
      conv2dFilterGrad: false,
      conv2dInputGrad: false,
      matMul: false,
      sum: false,
      softmax: false,
      optimizer: false,
      attention: true,
    });
    setWebGpuKernels('default');
    expect(webGpuKernels()).toEqual(DEFAULT_WEBGPU_KERNELS);
  });

  test('an unknown kernel or a value that is not a boolean is refused by name, and changes nothing', () => {
    expect(() => setWebGpuKernels({ layerNorm: true } as never)).toThrow(
      'setWebGpuKernels: unknown kernel "layerNorm"; valid: groupNorm, conv2d, conv2dFilterGrad, conv2dInputGrad, matMul, sum, softmax, optimizer, attention',
    );
    expect(() => setWebGpuKernels({ groupNorm: false, attention: 1 } as never)).toThrow(
      'setWebGpuKernels: attention must be true or false, got 1',
    );
    expect(() => setWebGpuKernels({ groupNorm: 1 } as never)).toThrow(
      'setWebGpuKernels: groupNorm must be true or false, got 1',
    );
    expect(() => setWebGpuKernels('fast' as never)).toThrow(
      "setWebGpuKernels: expected 'default', 'all', 'none' or { kernel: boolean }, got fast",
    );
    expect(webGpuKernels()).toEqual(DEFAULT_WEBGPU_KERNELS);
  });
});

describe('the conv2d tilings and splits', () => {
  test('conv2d: two blocks each way where there are more than 64, if memory holds them', () => {
    expect(conv2dTiling(32768, 128, 32768)).toEqual({ rowBlocks: 2, colBlocks: 2 });
    expect(conv2dSharedBytes({ rowBlocks: 2, colBlocks: 2 })).toBe(16640);
    expect(conv2dTiling(32768, 128, 16384)).toEqual({ rowBlocks: 2, colBlocks: 1 });
    expect(conv2dTiling(32768, 64, 32768)).toEqual({ rowBlocks: 2, colBlocks: 1 });
    expect(conv2dTiling(64, 1024, 32768)).toEqual({ rowBlocks: 1, colBlocks: 2 });
  });

  test('input gradient: likewise, pixels by input channels', () => {
    const wide = inputGradTiling(32768, 128, 32768);
    expect(wide).toEqual({ rowBlocks: 2, colBlocks: 2 });
    expect(inputGradSharedBytes(wide)).toBe(16896);
    // WebGPU's guaranteed 16 KB does not hold two blocks of each; nor do 64 channels need them.
    expect(inputGradTiling(32768, 128, 16384)).toEqual({ rowBlocks: 2, colBlocks: 1 });
    expect(inputGradSharedBytes({ rowBlocks: 2, colBlocks: 1 })).toBeLessThanOrEqual(16384);
    expect(inputGradTiling(32768, 64, 32768)).toEqual({ rowBlocks: 2, colBlocks: 1 });
    expect(inputGradTiling(16, 512, 32768)).toEqual({ rowBlocks: 1, colBlocks: 2 });
  });

  test('filter gradient: two blocks each way where there are more than 64, within 16 KB', () => {
    expect(filterGradTiling(1152, 128)).toEqual({ rowBlocks: 2, colBlocks: 2 });
    expect(filterGradTiling(27, 64)).toEqual({ rowBlocks: 1, colBlocks: 1 });
  });

  test('the inner sum splits until there are 512 workgroups, each split at least 32 steps long', () => {
    // The seed U-Net's 8 x 8 level at batch 8: 512 pixels x 1024 channels in tiles of 128 x 128,
    // an inner sum of 9 x 1024 entries in steps of 16.
    expect(splitInner(32, 576)).toEqual({ splits: 16, stepsPerSplit: 36 });
    expect(splitInner(512, 576)).toEqual({ splits: 1, stepsPerSplit: 576 });
    // Too short to split further.
    expect(splitInner(2, 144)).toEqual({ splits: 4, stepsPerSplit: 36 });
    expect(splitInner(1, 40)).toEqual({ splits: 1, stepsPerSplit: 40 });
    expect(splitInner(3, 100)).toEqual({ splits: 3, stepsPerSplit: 34 });
  });
});

describe('the batched matMul plan', () => {
  const operand = (shape: number[], dtype: 'float32' | 'int32' = 'float32') =>
    ({ shape, dtype, dataId: {} }) as const;
  const plain = { transposeA: false, transposeB: false };

  test('rows, columns and inner sum from the transposes; which way each operand is contiguous', () => {
    expect(planMatMul(operand([5, 7]), operand([7, 3]), plain)).toMatchObject({
      rows: 5,
      cols: 3,
      inner: 7,
      batches: 1,
      a: 'inner',
      b: 'tile',
      shape: [5, 3],
    });
    expect(
      planMatMul(operand([4, 7, 5]), operand([4, 3, 7]), { transposeA: true, transposeB: true }),
    ).toMatchObject({ rows: 5, cols: 3, inner: 7, batches: 4, a: 'tile', b: 'inner', shape: [4, 5, 3] });
  });

  test('an operand of one batch entry broadcasts, and the outer dimensions are kept', () => {
    // B's batch stride is 0: every batch entry reads the same matrix.
    expect(planMatMul(operand([2, 3, 10, 16]), operand([16, 12]), plain)).toMatchObject({
      batches: 6,
      heads: 1,
      strides: { a: [160, 0, 16, 1], b: [0, 0, 1, 12], c: [120, 0, 12] },
      shape: [2, 3, 10, 12],
    });
  });

  test("tfjs' kernel keeps other dtypes, empty operands and other broadcasts", () => {
    expect(planMatMul(operand([5, 7], 'int32'), operand([7, 3], 'int32'), plain)).toBeNull();
    expect(planMatMul(operand([0, 7]), operand([7, 3]), plain)).toBeNull();
    expect(planMatMul(operand([2, 1, 5, 7]), operand([1, 3, 7, 3]), plain)).toBeNull();
    expect(planMatMul(operand([2, 5, 7]), operand([3, 7, 3]), plain)).toBeNull();
  });

  test('tiles: two blocks each way where memory holds both padded tiles, else one block of columns', () => {
    const both = { rowBlocks: 2, colBlocks: 2 };
    expect(matMulSharedBytes(both, 'tile', 'tile')).toBe(16 * 64 * 16);
    expect(matMulSharedBytes(both, 'inner', 'inner')).toBe(16 * 66 * 16);
    expect(matMulTiling(512, 512, 'inner', 'inner', 16384)).toEqual({ rowBlocks: 2, colBlocks: 1 });
    expect(matMulTiling(512, 512, 'inner', 'inner', 32768)).toEqual(both);
    expect(matMulTiling(512, 512, 'tile', 'tile', 16384)).toEqual(both);
    expect(matMulTiling(64, 40, 'inner', 'tile', 32768)).toEqual({ rowBlocks: 1, colBlocks: 1 });
  });
});

describe('the column sum (Sum over leading axes)', () => {
  test('takes only leading axes, and leaves at least one axis', () => {
    expect(leadingAxes([8, 4, 4, 16], [0, 1, 2])).toBe(3);
    expect(leadingAxes([8, 4, 4, 16], [2, 0, 1])).toBe(3);
    expect(leadingAxes([2048, 512], 0)).toBe(1);
    expect(leadingAxes([8, 4, 4, 16], [0, 2])).toBe(0);
    expect(leadingAxes([8, 4, 4, 16], [1, 2])).toBe(0);
    expect(leadingAxes([8, 16], [0, 1])).toBe(0);
    expect(leadingAxes([16], 0)).toBe(0);
  });

  test('one chunk of rows for short sums; long ones cut until there are about 512 workgroups', () => {
    expect(columnSumChunks(300, 128)).toBe(1);
    expect(columnSumChunks(8 * 64 * 64, 128)).toBe(128);
    expect(columnSumChunks(8 * 8 * 8, 1024)).toBe(2);
    expect(columnSumChunks(1 << 20, 64)).toBe(512);
  });
});
