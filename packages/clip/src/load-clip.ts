import {
  loadStateDict,
  parseSafetensors,
  type StateDict,
  saveModuleWeights,
  writeFileAtomic,
} from '@dalle2js/core';
import type { CLIPConfig, CLIPConfigInput } from './clip-config.js';
import { CLIPImageProcessor } from './clip-image-processor.js';
import { CLIPModel } from './clip-model.js';
import { clipStateDictKey, convertOpenAIStateDict, isOpenAIStateDict } from './clip-state-dict.js';
import type { TokenizerLogger } from './tokenizer/clip-tokenizer.js';
import { loadCLIPTokenizer } from './tokenizer/load-clip-tokenizer.js';
import { formatBPEFiles } from './tokenizer/save-bpe-files.js';

// Node only: `node:fs` and `node:path` are imported on call, so browser bundles that never load from
// disk do not need them.

export interface LoadCLIPOptions {
  /** Refuse weights the model lacks and parameters the file lacks; default true. */
  strict?: boolean;
  /** Where the tokenizer's truncation warning goes; default `console`. */
  logger?: TokenizerLogger;
}

const CONFIG_FILE = 'config.json';
const WEIGHTS_FILE = 'model.safetensors';
const PREPROCESSOR_FILE = 'preprocessor_config.json';

/**
 * Loads a CLIP saved like a Hugging Face `CLIPModel` directory: `config.json` (any sizes and
 * activation), `model.safetensors` (Hugging Face or OpenAI key names), and when present a tokenizer
 * (`tokenizer.json`, `vocab.json` + `merges.txt`, or OpenAI's `bpe_simple_vocab_16e6.txt[.gz]`) and
 * `preprocessor_config.json`. Every mismatch between the config and the weights is reported at
 * once, with the key and both shapes.
 */
export async function loadCLIP(dir: string, options: LoadCLIPOptions = {}): Promise<CLIPModel> {
  const { readFile, readdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const files = new Set(await readdir(dir));
  const config = (await readJson(join(dir, CONFIG_FILE), files.has(CONFIG_FILE))) as CLIPConfigInput;
  const weightsPath = join(dir, WEIGHTS_FILE);
  if (!files.has(WEIGHTS_FILE)) throw new Error(`loadCLIP: ${dir} has no ${WEIGHTS_FILE}`);

  let model: CLIPModel;
  try {
    model = new CLIPModel(config, { init: 'zeros' });
  } catch (error) {
    throw new Error(`loadCLIP: ${join(dir, CONFIG_FILE)}: ${(error as Error).message}`, { cause: error });
  }
  try {
    let bytes: Uint8Array;
    try {
      const buffer = await readFile(weightsPath);
      bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      throw new Error(`loadCLIP: cannot read ${weightsPath}: ${(error as Error).message}`, { cause: error });
    }
    let tensors: StateDict;
    try {
      tensors = parseSafetensors(bytes).tensors;
    } catch (error) {
      throw new Error(
        `loadCLIP: ${weightsPath} is not a valid safetensors file: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    if (isOpenAIStateDict(tensors)) tensors = convertOpenAIStateDict(tensors);
    try {
      loadStateDict(model, tensors, { strict: options.strict ?? true, rename: clipStateDictKey });
    } catch (error) {
      throw new Error(
        `loadCLIP: ${weightsPath} does not fit ${join(dir, CONFIG_FILE)} (${describeSizes(model.config)}):\n${(error as Error).message}`,
        { cause: error },
      );
    }

    if (hasTokenizerFiles(files)) {
      const tokenizer = await loadCLIPTokenizer(
        dir,
        options.logger === undefined ? {} : { logger: options.logger },
      );
      if (tokenizer.vocabSize > model.config.text_config.vocab_size) {
        throw new Error(
          `loadCLIP: the tokenizer in ${dir} has ${tokenizer.vocabSize} tokens but text_config.vocab_size is ${model.config.text_config.vocab_size}`,
        );
      }
      model.tokenizer = tokenizer;
    }
    if (files.has(PREPROCESSOR_FILE)) {
      const json = (await readJson(join(dir, PREPROCESSOR_FILE), true)) as Record<string, unknown>;
      try {
        model.imageProcessor = CLIPImageProcessor.fromPreprocessorConfig(json);
      } catch (error) {
        throw new Error(`loadCLIP: ${join(dir, PREPROCESSOR_FILE)}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * Saves `model` so that {@link loadCLIP} and Hugging Face's `CLIPModel.from_pretrained` read it:
 * `config.json`, `model.safetensors`, `preprocessor_config.json`, and the tokenizer as `vocab.json`
 * + `merges.txt` when the model has one. Each file is written atomically.
 */
export async function saveCLIP(model: CLIPModel, dir: string): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(dir, { recursive: true });
  const text = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
  await saveModuleWeights(model, join(dir, WEIGHTS_FILE));
  await writeFileAtomic(join(dir, CONFIG_FILE), text(huggingFaceConfig(model.config)));
  await writeFileAtomic(join(dir, PREPROCESSOR_FILE), text(model.imageProcessor.toPreprocessorConfig()));
  if (model.tokenizer !== undefined) {
    for (const [name, contents] of Object.entries(formatBPEFiles(model.tokenizer, 'vocab-and-merges'))) {
      await writeFileAtomic(join(dir, name), new TextEncoder().encode(contents));
    }
  }
}

/** Our config plus the fields transformers needs to recognise it. */
function huggingFaceConfig(config: CLIPConfig): Record<string, unknown> {
  return {
    architectures: ['CLIPModel'],
    model_type: 'clip',
    projection_dim: config.projection_dim,
    logit_scale_init_value: config.logit_scale_init_value,
    text_config: { model_type: 'clip_text_model', ...config.text_config },
    vision_config: { model_type: 'clip_vision_model', ...config.vision_config },
  };
}

function hasTokenizerFiles(files: ReadonlySet<string>): boolean {
  if (files.has('tokenizer.json') || (files.has('vocab.json') && files.has('merges.txt'))) return true;
  return [...files].some((name) => /\.txt(\.gz)?$/.test(name) && name !== 'merges.txt');
}

async function readJson(path: string, exists: boolean): Promise<unknown> {
  if (!exists) throw new Error(`loadCLIP: ${path} does not exist`);
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`loadCLIP: ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

function describeSizes(config: CLIPConfig): string {
  const { text_config: t, vision_config: v } = config;
  return (
    `text ${t.num_hidden_layers}x${t.hidden_size} vocab ${t.vocab_size} context ${t.max_position_embeddings}, ` +
    `vision ${v.num_hidden_layers}x${v.hidden_size} ${v.image_size}px/${v.patch_size}, projection ${config.projection_dim}`
  );
}
