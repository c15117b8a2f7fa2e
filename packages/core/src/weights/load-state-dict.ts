import * as tf from '@tensorflow/tfjs-core';
import type { Module, Parameter } from '../nn/module.js';
import { isFloatDtype } from './safetensors-dtype.js';
import { formatShape, shapeSize, type TensorData } from './tensor-data.js';
import { type TfDtype, tfDtypeOf, toTfValues } from './tf-values.js';
import { fromTorchLayout, torchShape } from './torch-layout.js';

export interface LoadStateDictOptions {
  /** Refuse missing and unexpected keys (default true). Shape and dtype mismatches are always refused. */
  readonly strict?: boolean;
  /**
   * Map a checkpoint key to this module's key, or to null to ignore that tensor. Lets a model
   * package load foreign checkpoints (say OpenAI names into Hugging Face names) without a table here.
   */
  readonly rename?: (key: string) => string | null;
}

export interface LoadStateDictResult {
  /** Module keys the state dict did not provide (always empty after a strict load). */
  readonly missingKeys: string[];
  /** State-dict keys (as given, before renaming) the module has no parameter for (empty after a strict load). */
  readonly unexpectedKeys: string[];
}

interface Match {
  readonly parameter: Parameter;
  readonly entry: TensorData;
  readonly source: string;
}

/**
 * Load a PyTorch-layout state dict into `module`, converting layouts to ours. Everything is
 * checked first: on any problem one error lists them all and no parameter has changed.
 */
export function loadStateDict(
  module: Module,
  stateDict: ReadonlyMap<string, TensorData>,
  options: LoadStateDictOptions = {},
): LoadStateDictResult {
  const { strict = true, rename } = options;
  const parameters = module.namedParameters();
  const renamed = new Map<string, { entry: TensorData; source: string }>();
  const problems: string[] = [];
  for (const [source, entry] of stateDict) {
    const key = rename ? rename(source) : source;
    if (key === null) continue;
    const previous = renamed.get(key);
    if (previous) {
      problems.push(`duplicate key: "${previous.source}" and "${source}" both map to "${key}"`);
      continue;
    }
    renamed.set(key, { entry, source });
  }

  const missingKeys: string[] = [];
  const mismatches: string[] = [];
  const matches: Match[] = [];
  for (const [key, parameter] of parameters) {
    const found = renamed.get(key);
    if (!found) {
      missingKeys.push(key);
      continue;
    }
    const problem = checkEntry(key, parameter, found.entry);
    if (problem) mismatches.push(found.source === key ? problem : `${problem} (from "${found.source}")`);
    else matches.push({ parameter, ...found });
  }
  const unexpected = [...renamed].filter(([key]) => !parameters.has(key));
  const unexpectedKeys = unexpected.map(([, { source }]) => source);

  if (strict && missingKeys.length > 0) problems.push(listing('missing keys', missingKeys));
  if (strict && unexpected.length > 0) {
    const shown = unexpected.map(([key, { source }]) =>
      source === key ? key : `${source} (renamed ${key})`,
    );
    problems.push(listing('unexpected keys', shown));
  }
  problems.push(...mismatches);
  if (problems.length > 0) {
    throw new Error(
      `loadStateDict: cannot load into ${module.constructor.name}:\n  ${problems.join('\n  ')}`,
    );
  }

  for (const { parameter, entry, source } of matches) assign(parameter, entry, source);
  return { missingKeys, unexpectedKeys };
}

function checkEntry(key: string, { variable, layout }: Parameter, entry: TensorData): string | undefined {
  const expected = torchShape(variable.shape, layout, key);
  const sameShape =
    expected.length === entry.shape.length && expected.every((dim, i) => dim === entry.shape[i]);
  if (!sameShape) {
    return `shape mismatch for ${key}: expected ${formatShape(expected)} (PyTorch layout), found ${formatShape(entry.shape)}`;
  }
  if (entry.data.length !== shapeSize(entry.shape)) {
    return `size mismatch for ${key}: shape ${formatShape(entry.shape)} needs ${shapeSize(entry.shape)} values, found ${entry.data.length}`;
  }
  const dtype = variable.dtype as TfDtype;
  if (tfDtypeOf(entry.dtype) !== dtype)
    return `dtype mismatch for ${key}: expected a ${dtype} tensor, found ${entry.dtype}`;
  if (entry.data instanceof BigInt64Array && !isFloatDtype(entry.dtype)) {
    const outside = entry.data.findIndex((v) => v < -2147483648n || v > 2147483647n);
    if (outside >= 0)
      return `value out of range for ${key}: int64 value ${entry.data[outside]} at index ${outside} does not fit in int32`;
  }
  return undefined;
}

function assign({ variable, layout }: Parameter, entry: TensorData, source: string): void {
  tf.tidy(() => {
    const dtype = variable.dtype as TfDtype;
    const torch = tf.tensor(toTfValues(source, entry.data, dtype), [...entry.shape], dtype);
    variable.assign(fromTorchLayout(torch, layout, source));
  });
}

function listing(title: string, items: readonly string[]): string {
  return `${title} (${items.length}): ${items.join(', ')}`;
}
