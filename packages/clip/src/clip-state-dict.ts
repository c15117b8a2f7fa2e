import type { StateDict, TensorData } from '@dalle2js/core';

/**
 * The rename hook for `loadStateDict`: Hugging Face keys are ours as they are; the
 * `position_ids` buffers that some transformers versions save are ignored (we compute positions).
 */
export function clipStateDictKey(key: string): string | null {
  return key.endsWith('embeddings.position_ids') ? null : key;
}

/** True when a state dict uses OpenAI's original CLIP names (`visual.conv1.weight`, `transformer.resblocks...`). */
export function isOpenAIStateDict(stateDict: ReadonlyMap<string, TensorData>): boolean {
  return stateDict.has('visual.conv1.weight') || stateDict.has('positional_embedding');
}

const TOP_LEVEL: Readonly<Record<string, string>> = {
  positional_embedding: 'text_model.embeddings.position_embedding.weight',
  'token_embedding.weight': 'text_model.embeddings.token_embedding.weight',
  'ln_final.weight': 'text_model.final_layer_norm.weight',
  'ln_final.bias': 'text_model.final_layer_norm.bias',
  logit_scale: 'logit_scale',
  'visual.class_embedding': 'vision_model.embeddings.class_embedding',
  'visual.positional_embedding': 'vision_model.embeddings.position_embedding.weight',
  'visual.conv1.weight': 'vision_model.embeddings.patch_embedding.weight',
  'visual.ln_pre.weight': 'vision_model.pre_layrnorm.weight',
  'visual.ln_pre.bias': 'vision_model.pre_layrnorm.bias',
  'visual.ln_post.weight': 'vision_model.post_layernorm.weight',
  'visual.ln_post.bias': 'vision_model.post_layernorm.bias',
};

/** Stored [in, out] and used as `x @ proj` by OpenAI; Hugging Face's Linear weight is the transpose. */
const PROJECTIONS: Readonly<Record<string, string>> = {
  text_projection: 'text_projection.weight',
  'visual.proj': 'visual_projection.weight',
};

const BLOCK: Readonly<Record<string, string>> = {
  'attn.out_proj.weight': 'self_attn.out_proj.weight',
  'attn.out_proj.bias': 'self_attn.out_proj.bias',
  'ln_1.weight': 'layer_norm1.weight',
  'ln_1.bias': 'layer_norm1.bias',
  'ln_2.weight': 'layer_norm2.weight',
  'ln_2.bias': 'layer_norm2.bias',
  'mlp.c_fc.weight': 'mlp.fc1.weight',
  'mlp.c_fc.bias': 'mlp.fc1.bias',
  'mlp.c_proj.weight': 'mlp.fc2.weight',
  'mlp.c_proj.bias': 'mlp.fc2.bias',
};

// Scalars that OpenAI's TorchScript archives keep beside the weights.
const IGNORED = new Set(['input_resolution', 'context_length', 'vocab_size']);

/**
 * Converts an OpenAI CLIP state dict (ViT models, PyTorch layout) to Hugging Face names and layouts:
 * renames, splits `attn.in_proj_*` into q/k/v, and transposes the two projections. Throws on any
 * key it does not know (for example OpenAI's ResNet image towers, which are not implemented).
 */
export function convertOpenAIStateDict(stateDict: ReadonlyMap<string, TensorData>): StateDict {
  const out: StateDict = new Map();
  const unknown: string[] = [];
  for (const [key, entry] of stateDict) {
    if (IGNORED.has(key)) continue;
    const top = TOP_LEVEL[key];
    if (top !== undefined) {
      out.set(top, entry);
      continue;
    }
    const projection = PROJECTIONS[key];
    if (projection !== undefined) {
      out.set(projection, transpose2d(key, entry));
      continue;
    }
    const block = /^(visual\.)?transformer\.resblocks\.(\d+)\.(.+)$/.exec(key);
    if (block === null) {
      unknown.push(key);
      continue;
    }
    const [, visual, index, rest] = block as unknown as [string, string | undefined, string, string];
    const prefix = `${visual ? 'vision_model' : 'text_model'}.encoder.layers.${index}.`;
    const inProj = /^attn\.in_proj_(weight|bias)$/.exec(rest);
    if (inProj !== null) {
      const kind = inProj[1] as string;
      splitRows(key, entry, 3).forEach((part, i) => {
        out.set(`${prefix}self_attn.${'qkv'[i]}_proj.${kind}`, part);
      });
      continue;
    }
    const renamed = BLOCK[rest];
    if (renamed === undefined) unknown.push(key);
    else out.set(prefix + renamed, entry);
  }
  if (unknown.length > 0) {
    throw new Error(`OpenAI CLIP state dict: unknown keys (${unknown.length}): ${unknown.join(', ')}`);
  }
  return out;
}

function transpose2d(key: string, entry: TensorData): TensorData {
  if (entry.shape.length !== 2)
    throw new Error(`OpenAI CLIP state dict: ${key} should be 2-D, got [${entry.shape.join(', ')}]`);
  const [rows, cols] = entry.shape as [number, number];
  const source = entry.data;
  const data = new (source.constructor as new (n: number) => typeof source)(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) data[c * rows + r] = source[r * cols + c] as never;
  return { dtype: entry.dtype, shape: [cols, rows], data };
}

/** Splits the first axis into `parts` equal tensors. */
function splitRows(key: string, entry: TensorData, parts: number): TensorData[] {
  const first = entry.shape[0] ?? 0;
  if (first % parts !== 0) {
    throw new Error(`OpenAI CLIP state dict: ${key} has ${first} rows, not divisible by ${parts}`);
  }
  const shape = [first / parts, ...entry.shape.slice(1)];
  const size = entry.data.length / parts;
  return Array.from({ length: parts }, (_, i) => ({
    dtype: entry.dtype,
    shape,
    data: entry.data.slice(i * size, (i + 1) * size),
  }));
}
