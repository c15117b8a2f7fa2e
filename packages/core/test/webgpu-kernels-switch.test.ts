import { afterEach, describe, expect, test } from 'vitest';
import { DEFAULT_WEBGPU_KERNELS, setWebGpuKernels, webGpuKernels } from '../src/backend/index.js';
import { filterGradTiling } from '../src/backend/webgpu-kernels/conv2d-filter-grad-program.js';
import {
  inputGradSharedBytes,
  inputGradTiling,
} from '../src/backend/webgpu-kernels/conv2d-input-grad-program.js';
import { conv2dSharedBytes, conv2dTiling } from '../src/backend/webgpu-kernels/conv2d-program.js';
import { splitInner } from '../src/backend/webgpu-kernels/tiled-gemm.js';

afterEach(() => setWebGpuKernels('default'));

describe('setWebGpuKernels', () => {
  test('starts from the defaults: fused attention off until measured on a GPU', () => {
    expect(webGpuKernels()).toEqual({
      groupNorm: true,
      conv2d: true,
      conv2dFilterGrad: true,
      conv2dInputGrad: true,
      attention: false,
    });
    expect(webGpuKernels()).toEqual(DEFAULT_WEBGPU_KERNELS);
  });

  test("'all', 'none', some by name, then 'default' again", () => {
    setWebGpuKernels('all');
    expect(Object.values(webGpuKernels())).toEqual([true, true, true, true, true]);
    setWebGpuKernels('none');
    expect(Object.values(webGpuKernels())).toEqual([false, false, false, false, false]);
    setWebGpuKernels({ attention: true });
    expect(webGpuKernels()).toEqual({
      groupNorm: false,
      conv2d: false,
      conv2dFilterGrad: false,
      conv2dInputGrad: false,
      attention: true,
    });
    setWebGpuKernels('default');
    expect(webGpuKernels()).toEqual(DEFAULT_WEBGPU_KERNELS);
  });

  test('an unknown kernel or a value that is not a boolean is refused by name, and changes nothing', () => {
    expect(() => setWebGpuKernels({ softmax: true } as never)).toThrow(
      'setWebGpuKernels: unknown kernel "softmax"; valid: groupNorm, conv2d, conv2dFilterGrad, conv2dInputGrad, attention',
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
