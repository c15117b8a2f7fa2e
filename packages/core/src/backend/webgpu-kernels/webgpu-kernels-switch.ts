import * as tf from '@tensorflow/tfjs-core';

let enabled = true;

/**
 * Turns our webgpu kernels (GroupNorm's, attention's, the conv2d filter gradient) off or on again; off, the
 * webgpu backend runs tfjs' own kernels and plain ops, as a baseline to compare against.
 */
export function setWebGpuKernelsEnabled(on: boolean): void {
  enabled = on;
}

export function webGpuKernelsEnabled(): boolean {
  return enabled;
}

/**
 * Whether the active backend has `kernelName`, one of our kernels registered by name, and may use
 * it: on webgpu only while our webgpu kernels are on.
 */
export function ownKernelEnabled(kernelName: string): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(kernelName, backend) !== undefined && (backend !== 'webgpu' || enabled);
}
