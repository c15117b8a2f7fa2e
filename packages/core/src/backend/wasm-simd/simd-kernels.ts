import type { WasmBackend } from '../wasm-gradients/override-kernel-on-wasm.js';
import { KERNELS_WASM } from './kernels-binary.js';

/** Byte offsets into the wasm backend's heap; see kernels.wat for what each computes. */
export interface SimdKernels {
  copyRows(src: number, srcStride: number, dst: number, dstStride: number, rows: number, bytes: number): void;
  transpose32(
    src: number,
    srcRowBytes: number,
    dst: number,
    dstRowBytes: number,
    rows: number,
    cols: number,
  ): void;
  channelSums(x: number, pixels: number, channels: number, sums: number): void;
  channelSquaredDeviationSums(x: number, pixels: number, channels: number, mean: number, sums: number): void;
  channelSumsWithProducts(
    dy: number,
    x: number,
    pixels: number,
    channels: number,
    sums: number,
    productSums: number,
  ): void;
  channelAffine(x: number, pixels: number, channels: number, scale: number, shift: number, y: number): void;
  channelAffinePair(
    dy: number,
    x: number,
    pixels: number,
    channels: number,
    a: number,
    b: number,
    k: number,
    out: number,
  ): void;
}

/** The emscripten module behind the wasm backend: its memory, for the threaded and plain builds. */
interface EmscriptenModule {
  wasmMemory?: unknown;
  asm?: { memory?: unknown };
}

const instances = new WeakMap<WebAssembly.Memory, SimdKernels | null>();
let enabled = true;

/**
 * Turns the SIMD kernels off or on again, for every wasm backend. With them off, the kernels that
 * use them run their plain JavaScript loops: tests compare the two.
 */
export function setWasmSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}

/**
 * The SIMD kernels, instantiated once on the memory of `backend` (the wasm backend's own heap, so
 * that they work on tensors in place), or undefined where they cannot run: turned off, a build of
 * the backend whose memory is not found, or an engine without wasm SIMD.
 */
export function simdKernels(backend: WasmBackend): SimdKernels | undefined {
  if (!enabled) return undefined;
  const memory = backendMemory(backend);
  if (!memory) return undefined;
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    kernels = instantiateSimdKernels(memory);
    instances.set(memory, kernels);
  }
  return kernels ?? undefined;
}

function backendMemory(backend: WasmBackend): WebAssembly.Memory | undefined {
  const module = (backend as unknown as { wasm?: EmscriptenModule }).wasm;
  const memory = module?.wasmMemory ?? module?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

/** The kernels on `memory` (shared or not), or null where this engine cannot compile them. */
export function instantiateSimdKernels(memory: WebAssembly.Memory): SimdKernels | null {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const bytes = shared ? decodeBase64(KERNELS_WASM) : unshareMemoryImport(decodeBase64(KERNELS_WASM));
  if (!WebAssembly.validate(bytes)) return null; // no SIMD (or no threads for a shared memory)
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return instance.exports as unknown as SimdKernels;
}

/** The import `"env" "memory" (memory 1 65536 shared)`, up to its limits flag (0x03: shared, with a maximum). */
const SHARED_MEMORY_IMPORT = [6, ...Array.from('memory', (c) => c.charCodeAt(0)), 0x02, 0x03];

/** The module with its memory import's limits flag set to 0x01 (unshared, with a maximum). */
function unshareMemoryImport(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const at = bytes.findIndex((_, i) => SHARED_MEMORY_IMPORT.every((byte, k) => bytes[i + k] === byte));
  if (at < 0)
    throw new Error('The wasm SIMD kernels do not import a shared memory; rebuild kernels-binary.ts');
  bytes[at + SHARED_MEMORY_IMPORT.length - 1] = 0x01;
  return bytes;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
