import { missingPackageError } from './import-backend-package.js';

interface GPULike {
  requestAdapter(): Promise<unknown>;
}

/**
 * Gives Node a `navigator.gpu` from Dawn (the `webgpu` package), which tfjs-backend-webgpu needs
 * before it is imported. Throws a clear error when Dawn finds no GPU adapter.
 */
export async function installNodeWebGPU(): Promise<void> {
  const existing = (globalThis as { navigator?: { gpu?: GPULike } }).navigator;
  if (existing?.gpu) return;
  let dawn: { create(options: string[]): GPULike; globals: object };
  try {
    dawn = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'webgpu');
  } catch (error) {
    throw missingPackageError("The 'webgpu' backend in Node", 'webgpu', error);
  }
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) {
    throw new Error(
      "The 'webgpu' backend found no GPU adapter: Dawn (the `webgpu` package) needs a GPU driver " +
        '(Vulkan on Linux, Metal on macOS, D3D12 on Windows). Use `wasm` on machines without one.',
    );
  }
  // tfjs-backend-webgpu reads the GPUBufferUsage-style constants from the global scope.
  Object.assign(globalThis, dawn.globals);
  if (existing) Object.defineProperty(existing, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
}
