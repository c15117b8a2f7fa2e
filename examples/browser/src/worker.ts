/// <reference lib="webworker" />
// Generation runs here, off the page's thread, so that the page can draw progress between steps.
import { describeBackend, selectBackend } from '@dalle2js/core';
import type { Dalle2 } from '@dalle2js/dalle2';
import { fetchDalle2 } from './fetch-pipeline.js';
import type { FromWorker, PageBackend, ToWorker } from './messages.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
let pipeline: Promise<Dalle2> | undefined;

const send = (message: FromWorker, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

scope.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  try {
    if (message.type === 'start') {
      const started = performance.now();
      pipeline = start(message.backend, message.modelUrl, message.wasmUrl);
      const loaded = await pipeline;
      const about = (await (await fetch(new URL('about.json', message.modelUrl))).json()) as {
        about: string;
      };
      send({
        type: 'ready',
        backend: describeBackend().summary,
        about: about.about,
        stages: ['prior', ...loaded.decoders.map((_, i) => `decoder ${i}`)],
        imageSize: loaded.imageSize,
        seconds: (performance.now() - started) / 1000,
      });
      return;
    }
    if (!pipeline) throw new Error('the worker has no backend yet');
    const loaded = await pipeline;
    const started = performance.now();
    const result = await loaded.generate(message.prompt, {
      imagesPerPrompt: message.imagesPerPrompt,
      seed: message.seed,
      onProgress: (stage, step, total) => send({ type: 'progress', stage, step, total }),
    });
    result.images.dispose();
    send(
      { type: 'images', png: result.png, seconds: (performance.now() - started) / 1000 },
      result.png.map((png) => png.buffer),
    );
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
};

async function start(backend: PageBackend, modelUrl: string, wasmUrl: string): Promise<Dalle2> {
  if (backend === 'wasm') {
    // The same module that selectBackend imports: tell it where the page serves the .wasm files.
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(wasmUrl);
    await withEveryCore(() => selectBackend('wasm'));
  } else {
    await selectBackend(backend);
  }
  return fetchDalle2(modelUrl);
}

/**
 * Runs `init` while navigator.hardwareConcurrency reads twice the real count: the wasm backend
 * caps XNNPACK at half of it (it assumes two hyperthreads per core), and core does the same for
 * Node, so both use one thread per logical core (at most 8, the backend's worker pool).
 */
async function withEveryCore<T>(init: () => Promise<T>): Promise<T> {
  const cores = navigator.hardwareConcurrency || 1;
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * cores, configurable: true });
  try {
    return await init();
  } finally {
    // Drops the own property: the prototype's getter answers again.
    delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
}
