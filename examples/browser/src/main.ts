import type { FromWorker, PageBackend, ToWorker } from './messages.js';
import { PAGE_BACKENDS } from './messages.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('form');
const promptInput = $<HTMLInputElement>('prompt');
const backendSelect = $<HTMLSelectElement>('backend');
const countInput = $<HTMLInputElement>('count');
const seedInput = $<HTMLInputElement>('seed');
const button = $<HTMLButtonElement>('generate');
const status = $<HTMLParagraphElement>('status');
const progress = $<HTMLDivElement>('progress');
const errorLine = $<HTMLParagraphElement>('error');
const images = $<HTMLDivElement>('images');

// The page serves the pipeline folder and tfjs' .wasm files itself (scripts/prepare-public.mjs).
const MODEL_URL = new URL('model/', document.baseURI).href;
const WASM_URL = new URL('wasm/', document.baseURI).href;

interface Session {
  backend: PageBackend;
  worker: Worker;
  ready: Promise<Extract<FromWorker, { type: 'ready' }>>;
}
let session: Session | undefined;
const bars = new Map<string, { bar: HTMLProgressElement; label: HTMLSpanElement }>();
let imageUrls: string[] = [];

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void generate();
});
// Asking for a WebGPU adapter can take seconds; a backend chosen meanwhile is kept. The button
// waits for the answer, and body[data-ready] tells scripts (and the test) the page is usable.
let pickedMeanwhile = false;
backendSelect.addEventListener('change', () => (pickedMeanwhile = true), { once: true });
const suggested = await defaultBackend();
if (!pickedMeanwhile) backendSelect.value = suggested;
status.textContent = 'Choose a backend and press Generate.';
button.disabled = false;
document.body.dataset.ready = 'true';

/** WebGPU where the browser has an adapter, else WebGL; `?backend=NAME` picks one. */
async function defaultBackend(): Promise<PageBackend> {
  const asked = new URLSearchParams(location.search).get('backend');
  if (asked && (PAGE_BACKENDS as readonly string[]).includes(asked)) return asked as PageBackend;
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
  return adapter ? 'webgpu' : 'webgl';
}

async function generate(): Promise<void> {
  const backend = backendSelect.value as PageBackend;
  button.disabled = true;
  errorLine.hidden = true;
  try {
    if (session?.backend !== backend) {
      session?.worker.terminate();
      status.textContent = `Starting ${backend} and loading the model…`;
      session = startSession(backend);
    }
    const ready = await session.ready;
    showStages(ready.stages);
    status.textContent = `Backend: ${ready.backend}. Model: ${ready.about}. Generating…`;
    const request: ToWorker = {
      type: 'generate',
      prompt: promptInput.value,
      imagesPerPrompt: Number(countInput.value),
      seed: Number(seedInput.value),
    };
    const result = await run(session.worker, request, 'images');
    showImages(result.png, promptInput.value);
    status.textContent = `Backend: ${ready.backend}. Model: ${ready.about}. ${result.png.length} images of ${ready.imageSize}×${ready.imageSize} px in ${result.seconds.toFixed(1)} s.`;
    document.body.dataset.state = 'done';
  } catch (error) {
    errorLine.textContent = (error as Error).message;
    errorLine.hidden = false;
    status.textContent = '';
    document.body.dataset.state = 'error';
    // A worker that failed may be half started: the next press starts a fresh one.
    session?.worker.terminate();
    session = undefined;
  } finally {
    button.disabled = false;
  }
}

function startSession(backend: PageBackend): Session {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  const ready = run(worker, { type: 'start', backend, modelUrl: MODEL_URL, wasmUrl: WASM_URL }, 'ready');
  return { backend, worker, ready };
}

/** Sends one request and resolves with its answer; progress messages update the bars meanwhile. */
function run<T extends 'ready' | 'images'>(
  worker: Worker,
  request: ToWorker,
  answer: T,
): Promise<Extract<FromWorker, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (message.type === 'progress') return updateBar(message.stage, message.step, message.total);
      worker.removeEventListener('message', onMessage);
      worker.removeEventListener('error', onError);
      if (message.type === 'error') reject(new Error(message.message));
      else if (message.type === answer) resolve(message as Extract<FromWorker, { type: T }>);
      else reject(new Error(`the worker answered '${message.type}' instead of '${answer}'`));
    };
    const onError = (event: ErrorEvent) => {
      worker.removeEventListener('message', onMessage);
      worker.removeEventListener('error', onError);
      reject(new Error(`the worker failed: ${event.message || 'it could not start'}`));
    };
    worker.addEventListener('message', onMessage);
    worker.addEventListener('error', onError);
    worker.postMessage(request);
  });
}

function showStages(stages: string[]): void {
  progress.replaceChildren();
  bars.clear();
  for (const stage of stages) {
    const name = document.createElement('span');
    name.textContent = stage;
    const bar = document.createElement('progress');
    bar.max = 1;
    bar.value = 0;
    bar.dataset.stage = stage;
    const label = document.createElement('span');
    label.textContent = '';
    progress.append(name, bar, label);
    bars.set(stage, { bar, label });
  }
}

function updateBar(stage: string, step: number, total: number): void {
  const entry = bars.get(stage);
  if (!entry) return;
  entry.bar.max = total;
  entry.bar.value = step;
  entry.label.textContent = `${step}/${total}`;
}

function showImages(pngs: Uint8Array[], prompt: string): void {
  for (const url of imageUrls) URL.revokeObjectURL(url);
  imageUrls = pngs.map((png) => URL.createObjectURL(new Blob([png as BlobPart], { type: 'image/png' })));
  images.replaceChildren(
    ...imageUrls.map((url, i) => {
      const img = document.createElement('img');
      img.src = url;
      img.alt = `${prompt} (${i + 1})`;
      return img;
    }),
  );
}
