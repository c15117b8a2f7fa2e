import type { Module } from '../nn/module.js';
import type { StateDict } from './tensor-data.js';
import { readTensorData, type StoredDtypes } from './tf-values.js';
import { torchShape, toTorchLayout } from './torch-layout.js';

/**
 * Every parameter and buffer of `module` under its PyTorch key, in PyTorch layout
 * ([out, in] linear weights, OIHW convolutions), as copies the caller may keep or change.
 */
export async function getStateDict(module: Module, dtypes: StoredDtypes = {}): Promise<StateDict> {
  const stateDict: StateDict = new Map();
  for (const [key, { variable, layout }] of module.namedParameters()) {
    const shape = torchShape(variable.shape, layout, key);
    const torch = toTorchLayout(variable, layout, key);
    try {
      stateDict.set(key, await readTensorData(key, torch, shape, dtypes));
    } finally {
      if (torch !== variable) torch.dispose();
    }
  }
  return stateDict;
}
