import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { TorchGenerator, TorchGeneratorState } from '../random/torch-generator.js';
import { getStateDict } from '../weights/get-state-dict.js';
import { loadStateDict } from '../weights/load-state-dict.js';
import { loadSafetensorsFile, saveSafetensorsFile } from '../weights/safetensors-file.js';
import { serializeSafetensors } from '../weights/serialize-safetensors.js';
import type { StateDict, TensorData } from '../weights/tensor-data.js';
import { tensorsFromSafetensors } from '../weights/tensors-from-safetensors.js';
import type { AdamW } from './adamw.js';
import type { EMA } from './ema.js';

/** Everything a training run resumes from, besides its configs. */
export interface TrainingState {
  module: Module;
  ema: EMA;
  optimizer: AdamW;
  /** Draws batches, timesteps and noise: restored so a resumed run draws what an unbroken one would. */
  generator: TorchGenerator;
}

const SECTIONS = ['model.', 'ema.', 'optimizer.'] as const;

/**
 * Writes one safetensors file atomically: the module's weights under `model.`, the EMA and
 * optimizer state under `ema.` and `optimizer.`, and in the metadata the step, the generator's
 * state and the caller's `metadata` (format name, configs). Node only.
 */
export async function saveTrainingCheckpoint(
  path: string,
  state: TrainingState & { step: number },
  metadata: Record<string, string>,
): Promise<void> {
  const entries: StateDict = new Map();
  for (const [key, value] of await getStateDict(state.module)) entries.set(`model.${key}`, value);
  await addTensors(entries, 'ema.', state.ema.exportState());
  await addTensors(entries, 'optimizer.', state.optimizer.exportState());
  const all = {
    ...metadata,
    step: String(state.step),
    generator: JSON.stringify(state.generator.getState()),
  };
  await saveSafetensorsFile(path, serializeSafetensors(entries, all));
}

/**
 * Restores what `saveTrainingCheckpoint` wrote into `state` and returns the step. `check` sees the
 * metadata first and throws for a checkpoint of another format or config; nothing is changed then.
 * Node only.
 */
export async function loadTrainingCheckpoint(
  path: string,
  state: TrainingState,
  check: (metadata: Record<string, string>) => void,
): Promise<{ step: number; metadata: Record<string, string> }> {
  const { tensors, metadata } = await loadSafetensorsFile(path);
  check(metadata);
  const [model, ema, optimizer] = SECTIONS.map((prefix) => sectionOf(tensors, prefix)) as [
    StateDict,
    StateDict,
    StateDict,
  ];
  const unknown = [...tensors.keys()].find((key) => !SECTIONS.some((prefix) => key.startsWith(prefix)));
  if (unknown !== undefined) throw new Error(`${path} holds an unknown tensor "${unknown}"`);
  const emaState = tensorsFromSafetensors(ema);
  const optimizerState = tensorsFromSafetensors(optimizer);
  try {
    loadStateDict(state.module, model);
    await state.ema.importState(emaState);
    await state.optimizer.importState(optimizerState);
  } finally {
    tf.dispose([...emaState.values(), ...optimizerState.values()]);
  }
  state.generator.setState(JSON.parse(metadata.generator ?? '') as TorchGeneratorState);
  return { step: Number(metadata.step), metadata };
}

/** The entries under `prefix`, without it. */
function sectionOf(tensors: ReadonlyMap<string, TensorData>, prefix: string): StateDict {
  const section: StateDict = new Map();
  for (const [key, value] of tensors)
    if (key.startsWith(prefix)) section.set(key.slice(prefix.length), value);
  return section;
}

/** Reads `tensors` back and adds them under `prefix`; disposes them (they are exported copies). */
async function addTensors(
  entries: StateDict,
  prefix: string,
  tensors: Map<string, tf.Tensor>,
): Promise<void> {
  try {
    for (const [key, tensor] of tensors) {
      const dtype = tensor.dtype === 'int32' ? 'I32' : 'F32';
      const data = await tensor.data();
      entries.set(`${prefix}${key}`, {
        dtype,
        shape: [...tensor.shape],
        data: dtype === 'I32' ? Int32Array.from(data) : Float32Array.from(data),
      });
    }
  } finally {
    tf.dispose([...tensors.values()]);
  }
}
