import * as tf from '@tensorflow/tfjs-core';

/** Our webgpu kernels, each of which can be turned on or off. */
export type WebGpuKernel =
  | 'groupNorm'
  | 'conv2d'
  | 'conv2dFilterGrad'
  | 'conv2dInputGrad'
  | 'matMul'
  | 'sum'
  | 'softmax'
  | 'optimizer'
  | 'attention';

/**
 * On by default: GroupNorm's programs, the implicit-GEMM conv2d with its filter and input
 * gradients, the tiled batched matMul, the column sum (Sum over leading axes), attention's
 * scaled softmax and the optimizer's updates, each faster than tfjs' on Mesa's lavapipe or fewer dispatches. Off: fused
 * attention, slower there than attention through our matMul and not yet measured on a GPU
 * (`pnpm bench kernels`, bench/gpu).
 */
export const DEFAULT_WEBGPU_KERNELS: Readonly<Record<WebGpuKernel, boolean>> = {
  groupNorm: true,
  conv2d: true,
  conv2dFilterGrad: true,
  conv2dInputGrad: true,
  matMul: true,
  sum: true,
  softmax: true,
  optimizer: true,
  attention: false,
};

const WEBGPU_KERNELS = Object.keys(DEFAULT_WEBGPU_KERNELS) as WebGpuKernel[];
const enabled: Record<WebGpuKernel, boolean> = { ...DEFAULT_WEBGPU_KERNELS };

/**
 * Chooses which of our webgpu kernels run: 'default' (DEFAULT_WEBGPU_KERNELS), 'all', 'none'
 * (tfjs-backend-webgpu's kernels and plain ops, the baseline to compare against), or some of them
 * by name, the others unchanged.
 */
export function setWebGpuKernels(
  choice: 'default' | 'all' | 'none' | Partial<Record<WebGpuKernel, boolean>>,
): void {
  if (choice === 'default') Object.assign(enabled, DEFAULT_WEBGPU_KERNELS);
  else if (choice === 'all' || choice === 'none')
    for (const kernel of WEBGPU_KERNELS) enabled[kernel] = choice === 'all';
  else if (typeof choice !== 'object' || choice === null) {
    throw new Error(
      `setWebGpuKernels: expected 'default', 'all', 'none' or { kernel: boolean }, got ${String(choice)}`,
    );
  } else {
    const entries = Object.entries(choice);
    for (const [kernel, on] of entries) {
      if (!WEBGPU_KERNELS.includes(kernel as WebGpuKernel)) {
        throw new Error(`setWebGpuKernels: unknown kernel "${kernel}"; valid: ${WEBGPU_KERNELS.join(', ')}`);
      }
      if (typeof on !== 'boolean')
        throw new Error(`setWebGpuKernels: ${kernel} must be true or false, got ${on}`);
    }
    for (const [kernel, on] of entries) enabled[kernel as WebGpuKernel] = on;
  }
}

/** Which of our webgpu kernels run now. */
export function webGpuKernels(): Record<WebGpuKernel, boolean> {
  return { ...enabled };
}

export function webGpuKernelEnabled(kernel: WebGpuKernel): boolean {
  return enabled[kernel];
}

/**
 * Whether the active backend has `kernelName`, one of our kernels registered by name, and may use
 * it: on webgpu only while `kernel` is on.
 */
export function ownKernelEnabled(kernelName: string, kernel: WebGpuKernel): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(kernelName, backend) !== undefined && (backend !== 'webgpu' || enabled[kernel]);
}
