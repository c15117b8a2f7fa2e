import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackendModule } from './import-backend-package.js';
import type { NodeBuiltins } from './node-builtin.js';

const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';
const THREADED_SCRIPT = `${WASM_PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.js`;
const THREADED_WORKER = `${WASM_PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`;

/**
 * Runs `init` (which must initialise the wasm backend) so that it finds its .wasm files in
 * node_modules and runs XNNPACK on `threads` threads (default: every core; at most the core count
 * and 8, the size of the backend's prebuilt worker pool).
 *
 * tfjs-backend-wasm turns threads off in Node, and its threaded build runs Web Workers from blob:
 * URLs, which Node's worker_threads cannot start. Emscripten's own Node support does the rest, so
 * while `init` runs this: reports thread support, starts each pthread worker from the worker
 * source as an eval'd script, gives it the main script as a file path instead of a Blob, and keeps
 * the workers unref'd so that idle pthreads do not hold the process open. The backend also caps
 * its threads at half of `os.cpus()` (it assumes two hyperthreads per core), so `os.cpus()`
 * reports every core twice while the module starts.
 */
export async function withNodeWasm<T>(
  wasm: WasmBackendModule,
  builtins: NodeBuiltins,
  threads: number | undefined,
  init: () => Promise<T>,
): Promise<T> {
  const require = builtins.module.createRequire(import.meta.url);
  wasm.setWasmPaths(`${builtins.path.dirname(require.resolve(WASM_PACKAGE))}/`);
  if (!nodeSupportsWasmThreads()) return init();

  const { os, workerThreads } = builtins;
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  wasm.setThreadsCount(Math.max(1, Math.floor(threads ?? cores)));
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);

  const mainScript = require.resolve(THREADED_SCRIPT);
  const { wasmWorkerContents } = require(THREADED_WORKER) as { wasmWorkerContents: string };
  // The source went through a template literal, which turned the `\n` escapes in its strings into
  // line breaks; tfjs escapes them again the same way.
  const workerSource = wasmWorkerContents.replace(/\n/g, '\\n');
  const NodeWorker = workerThreads.Worker;
  class PthreadWorker extends NodeWorker {
    constructor(url: string | URL, options?: ConstructorParameters<typeof NodeWorker>[1]) {
      // No inherited execArgv: `--input-type=module` would make the CommonJS worker source ESM.
      if (String(url).startsWith('blob:')) super(workerSource, { eval: true, execArgv: [] });
      else super(url, options);
    }
    override ref(): void {
      this.unref();
    }
    override postMessage(
      message: unknown,
      transfer?: Parameters<InstanceType<typeof NodeWorker>['postMessage']>[1],
    ) {
      const load = message as { cmd?: string } | null;
      super.postMessage(load?.cmd === 'load' ? { ...load, urlOrBlob: mainScript } : message, transfer);
    }
  }
  const cpus = os.cpus;
  workerThreads.Worker = PthreadWorker;
  os.cpus = () => {
    const list = cpus();
    return [...list, ...list];
  };
  try {
    return await init();
  } finally {
    workerThreads.Worker = NodeWorker;
    os.cpus = cpus;
  }
}

/** The check tfjs makes in browsers: shared memory that can be posted to another thread. */
function nodeSupportsWasmThreads(): boolean {
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(new SharedArrayBuffer(1));
    return true;
  } catch {
    return false;
  } finally {
    port1.close();
    port2.close();
  }
}
