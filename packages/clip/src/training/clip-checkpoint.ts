import {
  type AdamW,
  getStateDict,
  loadSafetensorsFile,
  loadStateDict,
  type StateDict,
  serializeSafetensors,
  type TensorData,
  tensorsFromSafetensors,
  writeFileAtomic,
} from '@dalle2js/core';
import type * as tf from '@tensorflow/tfjs-core';
import type { CLIPModel } from '../clip-model.js';

// Node only: the file helpers import `node:fs` on call.

const MODEL_PREFIX = 'model.';
const OPTIMIZER_PREFIX = 'optimizer.';
const STEP_KEY = 'dalle2js.step';
const CLIP_CONFIG_KEY = 'dalle2js.clip_config';
const TRAINER_CONFIG_KEY = 'dalle2js.trainer_config';

export interface CLIPCheckpointState {
  model: CLIPModel;
  optimizer: AdamW;
  /** Optimizer steps done. */
  step: number;
  /** The trainer's config, kept as JSON in the file's metadata. */
  trainerConfig?: unknown;
}

export interface LoadedCLIPCheckpoint {
  step: number;
  /** The trainer config the checkpoint was written with, when it has one. */
  trainerConfig: unknown;
}

/**
 * Writes one safetensors file holding a training run: the model's state dict under `model.` (Hugging
 * Face keys and layouts, so `model.text_model...`), AdamW's moments and step counts under
 * `optimizer.`, and the step and both configs as metadata. One file, written through a temporary
 * file and a rename, so a crash leaves the previous checkpoint whole.
 */
export async function saveCLIPCheckpoint(path: string, state: CLIPCheckpointState): Promise<void> {
  const { model, optimizer, step } = state;
  if (!Number.isSafeInteger(step) || step < 0)
    throw new Error(`saveCLIPCheckpoint: step must be a non-negative integer, got ${step}`);
  const entries: StateDict = new Map();
  for (const [key, entry] of await getStateDict(model)) entries.set(`${MODEL_PREFIX}${key}`, entry);
  const optimizerState = optimizer.exportState();
  try {
    for (const [key, tensor] of optimizerState)
      entries.set(`${OPTIMIZER_PREFIX}${key}`, await tensorData(tensor));
  } finally {
    for (const tensor of optimizerState.values()) tensor.dispose();
  }
  const metadata: Record<string, string> = {
    format: 'pt',
    [STEP_KEY]: String(step),
    [CLIP_CONFIG_KEY]: JSON.stringify(model.config),
  };
  if (state.trainerConfig !== undefined) metadata[TRAINER_CONFIG_KEY] = JSON.stringify(state.trainerConfig);
  await writeFileAtomic(path, serializeSafetensors(entries, metadata));
}

/**
 * Restores what {@link saveCLIPCheckpoint} wrote into `model` and `optimizer`. The model's config
 * must equal the saved one, and every key must fit; nothing changes when a check fails.
 */
export async function loadCLIPCheckpoint(
  path: string,
  target: { model: CLIPModel; optimizer: AdamW },
): Promise<LoadedCLIPCheckpoint> {
  const { tensors, metadata } = await loadSafetensorsFile(path);
  const step = Number(metadata[STEP_KEY]);
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new Error(
      `loadCLIPCheckpoint: ${path} is not a CLIP training checkpoint (no "${STEP_KEY}" in its metadata)`,
    );
  }
  const saved = metadata[CLIP_CONFIG_KEY];
  const current = JSON.stringify(target.model.config);
  if (saved !== current) {
    throw new Error(
      `loadCLIPCheckpoint: ${path} was written for another CLIP config:\n  saved ${saved}\n  model ${current}`,
    );
  }
  const modelEntries: StateDict = new Map();
  const optimizerEntries = new Map<string, TensorData>();
  const unknown: string[] = [];
  for (const [key, entry] of tensors) {
    if (key.startsWith(MODEL_PREFIX)) modelEntries.set(key.slice(MODEL_PREFIX.length), entry);
    else if (key.startsWith(OPTIMIZER_PREFIX))
      optimizerEntries.set(key.slice(OPTIMIZER_PREFIX.length), entry);
    else unknown.push(key);
  }
  if (unknown.length > 0) {
    throw new Error(
      `loadCLIPCheckpoint: ${path} holds keys outside "${MODEL_PREFIX}" and "${OPTIMIZER_PREFIX}": ${unknown.join(', ')}`,
    );
  }
  const optimizerState = tensorsFromSafetensors(optimizerEntries);
  const previous = target.optimizer.exportState();
  try {
    // Both calls check everything before they change anything; if the model's load fails after the
    // optimizer's, the optimizer gets its previous state back.
    await target.optimizer.importState(optimizerState);
    try {
      loadStateDict(target.model, modelEntries, { strict: true });
    } catch (error) {
      await target.optimizer.importState(previous);
      throw error;
    }
  } catch (error) {
    throw new Error(`loadCLIPCheckpoint: ${path}: ${(error as Error).message}`, { cause: error });
  } finally {
    for (const tensor of [...optimizerState.values(), ...previous.values()]) tensor.dispose();
  }
  const trainerConfig = metadata[TRAINER_CONFIG_KEY];
  return { step, trainerConfig: trainerConfig === undefined ? undefined : JSON.parse(trainerConfig) };
}

async function tensorData(tensor: tf.Tensor): Promise<TensorData> {
  if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') {
    throw new Error(`saveCLIPCheckpoint: cannot store a ${tensor.dtype} tensor`);
  }
  const data = await tensor.data();
  return {
    dtype: tensor.dtype === 'int32' ? 'I32' : 'F32',
    shape: [...tensor.shape],
    data: data as Float32Array | Int32Array,
  };
}
