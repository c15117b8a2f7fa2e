import * as tf from '@tensorflow/tfjs-core';

const installed = new WeakSet<tf.KernelConfig>();

/**
 * Replaces `backendName`'s kernel for `kernelName` by `make(original)`, keeping its setup and
 * disposal. Does nothing until the backend's package has registered its own kernel, and nothing
 * when the registered kernel is already a replacement, so that it can run again.
 */
export function overrideKernel(
  backendName: string,
  kernelName: string,
  make: (original: tf.KernelFunc) => tf.KernelFunc,
): void {
  const original = tf.getKernel(kernelName, backendName);
  if (!original || installed.has(original)) return;
  const config: tf.KernelConfig = { ...original, kernelFunc: make(original.kernelFunc) };
  installed.add(config);
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel(config);
}

/**
 * Registers kernels of our own, by name, for `backendName`; does nothing when the first is already
 * there, so that it can run again.
 */
export function registerOwnKernels(backendName: string, kernels: Record<string, tf.KernelFunc>): void {
  const names = Object.keys(kernels);
  if (names.length === 0 || tf.getKernel(names[0]!, backendName)) return;
  for (const kernelName of names)
    tf.registerKernel({ kernelName, backendName, kernelFunc: kernels[kernelName]! });
}
