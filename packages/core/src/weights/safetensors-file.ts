import { type ParseSafetensorsOptions, parseSafetensors, type Safetensors } from './parse-safetensors.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** Write safetensors bytes to `path` atomically (temporary file + rename). Node only. */
export async function saveSafetensorsFile(path: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(path, bytes);
}

/** Read and parse a safetensors file. Node only. */
export async function loadSafetensorsFile(
  path: string,
  options: ParseSafetensorsOptions = {},
): Promise<Safetensors> {
  const { readFile } = await import('node:fs/promises');
  const buffer = await readFile(path);
  try {
    return parseSafetensors(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), options);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error });
  }
}
