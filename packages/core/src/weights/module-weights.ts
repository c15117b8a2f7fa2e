import type { Module } from '../nn/module.js';
import { getStateDict } from './get-state-dict.js';
import { type LoadStateDictOptions, type LoadStateDictResult, loadStateDict } from './load-state-dict.js';
import { loadSafetensorsFile, saveSafetensorsFile } from './safetensors-file.js';
import { serializeSafetensors } from './serialize-safetensors.js';
import type { StoredDtypes } from './tf-values.js';

/**
 * Save `module`'s state dict (PyTorch layout) as a safetensors file, atomically. Node only.
 * Metadata defaults to `{ format: 'pt' }`: transformers refuses safetensors files without it.
 */
export async function saveModuleWeights(
  module: Module,
  path: string,
  metadata: Readonly<Record<string, string>> = {},
  dtypes: StoredDtypes = {},
): Promise<void> {
  const stateDict = await getStateDict(module, dtypes);
  await saveSafetensorsFile(path, serializeSafetensors(stateDict, { format: 'pt', ...metadata }));
}

/** Load a safetensors file (PyTorch layout) into `module`; see `loadStateDict` for the checks. Node only. */
export async function loadModuleWeights(
  module: Module,
  path: string,
  options: LoadStateDictOptions = {},
): Promise<LoadStateDictResult> {
  const { tensors } = await loadSafetensorsFile(path);
  try {
    return loadStateDict(module, tensors, options);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error });
  }
}
