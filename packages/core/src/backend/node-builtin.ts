import type { CpuInfo } from 'node:os';
import type { Worker } from 'node:worker_threads';

/** The parts of Node's builtin modules that the wasm backend's Node setup reads or patches. */
export interface NodeBuiltins {
  os: { cpus(): CpuInfo[]; availableParallelism?(): number };
  workerThreads: { Worker: typeof Worker };
  module: { createRequire(path: string): NodeJS.Require };
  path: { dirname(path: string): string };
}

/**
 * Node's builtin modules, fetched at run time so that browser bundles never see a `node:` import;
 * undefined outside Node or before Node 20.16, which lack `process.getBuiltinModule`.
 */
export function nodeBuiltins(): NodeBuiltins | undefined {
  const get = typeof process === 'undefined' ? undefined : process.getBuiltinModule;
  if (typeof get !== 'function') return undefined;
  return {
    os: get('node:os') as NodeBuiltins['os'],
    workerThreads: get('node:worker_threads') as NodeBuiltins['workerThreads'],
    module: get('node:module') as NodeBuiltins['module'],
    path: get('node:path') as NodeBuiltins['path'],
  };
}
