import { afterEach, describe, expect, test } from 'vitest';
import { DEFAULT_WEBGPU_KERNELS, setWebGpuKernels, webGpuKernels } from '../src/backend/index.js';

afterEach(() => setWebGpuKernels('default'));

describe('setWebGpuKernels', () => {
  test('starts from the defaults: fused attention off until measured on a GPU', () => {
    expect(webGpuKernels()).toEqual({ groupNorm: true, conv2dFilterGrad: true, attention: false });
    expect(webGpuKernels()).toEqual(DEFAULT_WEBGPU_KERNELS);
  });

  test("'all', 'none', some by name, then 'default' again", () => {
    setWebGpuKernels('all');
    expect(Object.values(webGpuKernels())).toEqual([true, true, true]);
    setWebGpuKernels('none');
    expect(Object.values(webGpuKernels())).toEqual([false, false, false]);
    setWebGpuKernels({ attention: true });
    expect(webGpuKernels()).toEqual({ groupNorm: false, conv2dFilterGrad: false, attention: true });
    setWebGpuKernels('default');
    expect(webGpuKernels()).toEqual(DEFAULT_WEBGPU_KERNELS);
  });

  test('an unknown kernel or a value that is not a boolean is refused by name, and changes nothing', () => {
    expect(() => setWebGpuKernels({ softmax: true } as never)).toThrow(
      'setWebGpuKernels: unknown kernel "softmax"; valid: groupNorm, conv2dFilterGrad, attention',
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
