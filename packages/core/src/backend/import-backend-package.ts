/// <reference path="./optional-peers.d.ts" />
import type { BackendName } from './backend-names.js';

/** The npm package that provides each backend. */
export const BACKEND_PACKAGES: Record<BackendName, string> = {
  cpu: '@tensorflow/tfjs-backend-cpu',
  wasm: '@tensorflow/tfjs-backend-wasm',
  webgl: '@tensorflow/tfjs-backend-webgl',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  tensorflow: '@tensorflow/tfjs-node',
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
};

export type WasmBackendModule = typeof import('@tensorflow/tfjs-backend-wasm');

/**
 * Imports the package that registers a backend. Each specifier is a literal so that bundlers see
 * it; the Node-only ones carry ignore hints so that browser bundles do not try to resolve them.
 */
export async function importBackendPackage(name: BackendName): Promise<unknown> {
  try {
    switch (name) {
      case 'cpu':
        return await import('@tensorflow/tfjs-backend-cpu');
      case 'wasm':
        return await import('@tensorflow/tfjs-backend-wasm');
      case 'webgl':
        return await import('@tensorflow/tfjs-backend-webgl');
      case 'webgpu':
        return await import('@tensorflow/tfjs-backend-webgpu');
      case 'tensorflow':
        return await import(/* webpackIgnore: true */ /* @vite-ignore */ '@tensorflow/tfjs-node');
      case 'tensorflow-gpu':
        return await import(/* webpackIgnore: true */ /* @vite-ignore */ '@tensorflow/tfjs-node-gpu');
    }
  } catch (error) {
    throw missingPackageError(`The '${name}' backend`, BACKEND_PACKAGES[name], error);
  }
}

/** The wasm backend's own API; Node's CommonJS interop may put it under `default`. */
export async function importWasmBackend(): Promise<WasmBackendModule> {
  const module = (await importBackendPackage('wasm')) as WasmBackendModule & { default?: WasmBackendModule };
  return typeof module.setWasmPaths === 'function' ? module : module.default!;
}

/** Names the package to install when `error` says that it is missing, else returns `error` as is. */
export function missingPackageError(what: string, packageName: string, error: unknown): unknown {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const notFound =
    code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'MODULE_NOT_FOUND' ||
    /cannot find (module|package)|failed to (load|resolve)/i.test(message);
  if (!notFound || !message.includes(packageName)) return error;
  return new Error(
    `${what} needs the package ${packageName}, which is not installed: pnpm add ${packageName}`,
    {
      cause: error,
    },
  );
}
