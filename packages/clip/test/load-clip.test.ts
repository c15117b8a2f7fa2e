import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors, type StateDict, serializeSafetensors, type TensorData } from '@dalle2js/core';
import { expectNoLeaks } from '@dalle2js/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CLIPModel, loadCLIP, saveCLIP } from '../src/index.js';
import { clipTinyDir } from './fixture-path.js';
import { disposeOutput, tinyImages, tinyModel, tinyTokenizer } from './tiny-clip.js';

let work: string;
let count = 0;
const texts = ['a photo of a red circle', 'the dog', ''];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'load-clip-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A writable copy of clip-tiny, with `change` applied to its files. */
async function fixtureCopy(change: (files: Map<string, Uint8Array>) => void = () => {}): Promise<string> {
  const dir = join(work, `copy-${count++}`);
  await mkdir(dir);
  const files = new Map<string, Uint8Array>();
  for (const name of await readdir(clipTinyDir))
    files.set(name, new Uint8Array(await readFile(join(clipTinyDir, name))));
  change(files);
  for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
  return dir;
}

function weightsOf(files: Map<string, Uint8Array>): StateDict {
  return parseSafetensors(files.get('model.safetensors')!).tensors;
}

function json(files: Map<string, Uint8Array>, name: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(files.get(name)!)) as Record<string, unknown>;
}

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

async function outputs(model: CLIPModel): Promise<Float32Array[]> {
  const images = tinyImages(2, model.config.vision_config.image_size);
  const out = model.forward({ text: texts, images });
  try {
    return await Promise.all(Object.values(out).map(async (t) => (await t.data()) as Float32Array));
  } finally {
    disposeOutput(out);
    images.dispose();
  }
}

describe('loadCLIP / saveCLIP', () => {
  it('loads clip-tiny with its config, tokenizer and sizes', async () => {
    const model = await loadCLIP(clipTinyDir);
    try {
      expect(model.config.text_config).toMatchObject({
        hidden_size: 64,
        max_position_embeddings: 24,
        eos_token_id: 644,
      });
      expect(model.config.vision_config).toMatchObject({ hidden_size: 48, image_size: 32, patch_size: 8 });
      expect(model.tokenizer?.encode('a photo of a red circle')).toEqual([
        643, 320, 618, 534, 320, 535, 580, 644,
      ]);
      expect(model.imageProcessor.config).toMatchObject({ shortestEdge: 32, cropHeight: 32, cropWidth: 32 });
      expect((await model.logit_scale.data())[0]).toBeCloseTo(2.3, 6);
    } finally {
      model.dispose();
    }
  });

  it('saves in the same layout, atomically, and reloads to identical outputs', async () => {
    for (const make of [() => loadCLIP(clipTinyDir), async () => tinyModel(21, await tinyTokenizer())]) {
      const model = await make();
      const dir = join(work, `saved-${count++}`);
      try {
        await saveCLIP(model, dir);
        expect((await readdir(dir)).sort()).toEqual([
          'config.json',
          'merges.txt',
          'model.safetensors',
          'preprocessor_config.json',
          'vocab.json',
        ]);
        const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
        expect(config).toMatchObject({ model_type: 'clip', architectures: ['CLIPModel'] });
        const reloaded = await loadCLIP(dir);
        try {
          expect(reloaded.config).toEqual(model.config);
          const [a, b] = [await outputs(model), await outputs(reloaded)];
          expect(b).toEqual(a);
          expect(reloaded.tokenizer?.encode(texts[0]!)).toEqual(model.tokenizer?.encode(texts[0]!));
        } finally {
          reloaded.dispose();
        }
      } finally {
        model.dispose();
      }
    }
  });

  it('ignores position_ids buffers and reads preprocessor_config.json', async () => {
    const dir = await fixtureCopy((files) => {
      const weights = weightsOf(files);
      weights.set('text_model.embeddings.position_ids', {
        dtype: 'I64',
        shape: [1, 24],
        data: Int32Array.from({ length: 24 }, (_, i) => i),
      });
      weights.set('vision_model.embeddings.position_ids', {
        dtype: 'I64',
        shape: [1, 17],
        data: Int32Array.from({ length: 17 }, (_, i) => i),
      });
      files.set('model.safetensors', serializeSafetensors(weights, { format: 'pt' }));
      files.set(
        'preprocessor_config.json',
        encode({ size: { shortest_edge: 40 }, crop_size: { height: 32, width: 32 }, resample: 3 }),
      );
    });
    const model = await loadCLIP(dir);
    try {
      expect(model.imageProcessor.config).toMatchObject({ shortestEdge: 40, cropHeight: 32 });
    } finally {
      model.dispose();
    }
  });

  it('reports config/weights disagreement with the key and both shapes', async () => {
    const dir = await fixtureCopy((files) => {
      const config = json(files, 'config.json');
      (config.text_config as Record<string, unknown>).intermediate_size = 128;
      files.set('config.json', encode(config));
    });
    const error = await loadCLIP(dir).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('does not fit');
    expect(message).toContain(
      'shape mismatch for text_model.encoder.layers.0.mlp.fc1.weight: expected [128, 64] (PyTorch layout), found [256, 64]',
    );
    expect(message).toContain('text_model.encoder.layers.1.mlp.fc2.weight');
  });

  it('refuses missing and unexpected weights unless strict is off', async () => {
    const dir = await fixtureCopy((files) => {
      const weights = weightsOf(files);
      weights.delete('visual_projection.weight');
      weights.set('extra.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
      files.set('model.safetensors', serializeSafetensors(weights));
    });
    await expect(loadCLIP(dir)).rejects.toThrow(
      /missing keys \(1\): visual_projection\.weight[\s\S]*unexpected keys \(1\): extra\.weight/,
    );
    const model = await loadCLIP(dir, { strict: false });
    model.dispose();
  });

  it('gives a clear message for corrupt or missing files', async () => {
    const truncated = await fixtureCopy((files) =>
      files.set('model.safetensors', files.get('model.safetensors')!.slice(0, 5000)),
    );
    await expect(loadCLIP(truncated)).rejects.toThrow(
      /model\.safetensors is not a valid safetensors file: safetensors: /,
    );
    const garbage = await fixtureCopy((files) => {
      const bytes = new Uint8Array(64);
      new DataView(bytes.buffer).setBigUint64(0, 20n, true);
      bytes.set(new TextEncoder().encode('{"a": not json!!!!'), 8);
      files.set('model.safetensors', bytes);
    });
    await expect(loadCLIP(garbage)).rejects.toThrow('is not a valid safetensors file');
    const noConfig = await fixtureCopy((files) => files.delete('config.json'));
    await expect(loadCLIP(noConfig)).rejects.toThrow(/config\.json does not exist/);
    const badConfig = await fixtureCopy((files) => files.set('config.json', new TextEncoder().encode('{')));
    await expect(loadCLIP(badConfig)).rejects.toThrow(/config\.json is not valid JSON/);
    const badAct = await fixtureCopy((files) => {
      const config = json(files, 'config.json');
      (config.vision_config as Record<string, unknown>).hidden_act = 'mish';
      files.set('config.json', encode(config));
    });
    await expect(loadCLIP(badAct)).rejects.toThrow(
      /vision_config\.hidden_act "mish" is not supported; valid: gelu, quick_gelu/,
    );
    const noWeights = await fixtureCopy((files) => files.delete('model.safetensors'));
    await expect(loadCLIP(noWeights)).rejects.toThrow('has no model.safetensors');
  });

  it("loads OpenAI's original key names", async () => {
    const dir = await fixtureCopy((files) => {
      files.set('model.safetensors', serializeSafetensors(toOpenAINames(weightsOf(files))));
    });
    const [reference, converted] = [await loadCLIP(clipTinyDir), await loadCLIP(dir)];
    try {
      expect(await outputs(converted)).toEqual(await outputs(reference));
    } finally {
      reference.dispose();
      converted.dispose();
    }
  });

  it('leaves no tensors behind when loading, saving or failing', async () => {
    const model = await loadCLIP(clipTinyDir);
    const bad = await fixtureCopy((files) => {
      const config = json(files, 'config.json');
      (config.vision_config as Record<string, unknown>).patch_size = 4;
      files.set('config.json', encode(config));
    });
    try {
      await expectNoLeaks(async () => (await loadCLIP(clipTinyDir)).dispose());
      await expectNoLeaks(() => saveCLIP(model, join(work, 'leak-check')));
      await expectNoLeaks(() => loadCLIP(bad).catch(() => undefined));
      const before = tf.memory().numTensors;
      await expect(loadCLIP(bad)).rejects.toThrow('vision_model.embeddings.position_embedding.weight');
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  });
});

/** The inverse of the conversion, written out independently: Hugging Face names to OpenAI's. */
function toOpenAINames(hf: StateDict): StateDict {
  const out: StateDict = new Map();
  const transpose = (t: TensorData): TensorData => {
    const [rows, cols] = t.shape as [number, number];
    const data = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) data[c * rows + r] = t.data[r * cols + c] as number;
    return { dtype: t.dtype, shape: [cols, rows], data };
  };
  const qkv = new Map<string, TensorData[]>();
  for (const [key, t] of hf) {
    let m = /^(text|vision)_model\.encoder\.layers\.(\d+)\.(.+)$/.exec(key);
    if (m) {
      const block = `${m[1] === 'vision' ? 'visual.' : ''}transformer.resblocks.${m[2]}.`;
      const rest = m[3]!;
      const attn = /^self_attn\.([qkv])_proj\.(weight|bias)$/.exec(rest);
      if (attn) {
        const name = `${block}attn.in_proj_${attn[2]}`;
        const parts = qkv.get(name) ?? [];
        parts['qkv'.indexOf(attn[1]!)] = t;
        qkv.set(name, parts);
        continue;
      }
      const renamed = rest
        .replace('self_attn.out_proj', 'attn.out_proj')
        .replace('layer_norm1', 'ln_1')
        .replace('layer_norm2', 'ln_2')
        .replace('mlp.fc1', 'mlp.c_fc')
        .replace('mlp.fc2', 'mlp.c_proj');
      out.set(block + renamed, t);
      continue;
    }
    m = /^(.*)$/.exec(key)!;
    const names: Record<string, string> = {
      'text_model.embeddings.token_embedding.weight': 'token_embedding.weight',
      'text_model.embeddings.position_embedding.weight': 'positional_embedding',
      'text_model.final_layer_norm.weight': 'ln_final.weight',
      'text_model.final_layer_norm.bias': 'ln_final.bias',
      'vision_model.embeddings.class_embedding': 'visual.class_embedding',
      'vision_model.embeddings.position_embedding.weight': 'visual.positional_embedding',
      'vision_model.embeddings.patch_embedding.weight': 'visual.conv1.weight',
      'vision_model.pre_layrnorm.weight': 'visual.ln_pre.weight',
      'vision_model.pre_layrnorm.bias': 'visual.ln_pre.bias',
      'vision_model.post_layernorm.weight': 'visual.ln_post.weight',
      'vision_model.post_layernorm.bias': 'visual.ln_post.bias',
      logit_scale: 'logit_scale',
    };
    if (key === 'text_projection.weight') out.set('text_projection', transpose(t));
    else if (key === 'visual_projection.weight') out.set('visual.proj', transpose(t));
    else if (names[key] !== undefined) out.set(names[key]!, t);
    else throw new Error(`test: no OpenAI name for ${key}`);
  }
  for (const [name, [q, k, v]] of qkv) {
    const data = new Float32Array(q!.data.length * 3);
    data.set(q!.data as Float32Array, 0);
    data.set(k!.data as Float32Array, q!.data.length);
    data.set(v!.data as Float32Array, 2 * q!.data.length);
    out.set(name, { dtype: q!.dtype, shape: [q!.shape[0]! * 3, ...q!.shape.slice(1)], data });
  }
  out.set('input_resolution', { dtype: 'I64', shape: [], data: Int32Array.of(32) });
  return out;
}
