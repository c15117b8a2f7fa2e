import { CLIPImageProcessor, CLIPModel, loadCLIPTokenizer } from '@dalle2js/clip';
import { loadModuleWeights, type Module } from '@dalle2js/core';
import { DiffusionPrior } from '@dalle2js/prior';
import * as tf from '@tensorflow/tfjs-core';
import { Decoder } from '../decoder/decoder.js';
import { Dalle2 } from './dalle2.js';
import { type ComponentEntry, type PipelineConfig, readPipelineConfig } from './pipeline-config.js';

/** The components a pipeline folder holds (a folder being trained may lack some); the caller owns them. */
export interface LoadedComponents {
  config: PipelineConfig;
  clip?: CLIPModel;
  prior?: DiffusionPrior;
  decoders?: Decoder[];
}

export type PipelineComponentName = 'clip' | 'prior' | 'decoders';

/**
 * Loads the components named in `which` (default: all that the folder holds). Each weights file
 * must fit its config exactly; errors name the folder, the file and what does not fit. Node only.
 */
export async function loadPipelineComponents(
  dir: string,
  which: readonly PipelineComponentName[] = ['clip', 'prior', 'decoders'],
): Promise<LoadedComponents> {
  const { join } = await import('node:path');
  const config = await readPipelineConfig(dir);
  const loaded: LoadedComponents = { config };
  try {
    if (which.includes('clip') && config.clip) {
      const entry = config.clip;
      const clip = build(dir, 'clip', () => new CLIPModel(entry.config, { init: 'zeros' }));
      loaded.clip = clip;
      await loadWeights(dir, entry, clip);
      try {
        clip.tokenizer = await loadCLIPTokenizer(join(dir, entry.tokenizer));
        clip.imageProcessor = CLIPImageProcessor.fromPreprocessorConfig(entry.imageProcessor);
      } catch (error) {
        throw new Error(
          `model folder ${dir}: the CLIP tokenizer or image processor: ${(error as Error).message}`,
        );
      }
    }
    if (which.includes('prior') && config.prior) {
      const entry = config.prior;
      const prior = build(dir, 'prior', () => new DiffusionPrior(entry.config));
      loaded.prior = prior;
      await loadWeights(dir, entry, prior.network);
    }
    if (which.includes('decoders') && config.decoders) {
      loaded.decoders = [];
      for (const [i, entry] of config.decoders.entries()) {
        const decoder = build(dir, `decoder ${i}`, () => new Decoder(entry.config));
        loaded.decoders.push(decoder);
        await loadWeights(dir, entry, decoder.unet);
      }
    }
    return loaded;
  } catch (error) {
    loaded.clip?.dispose();
    loaded.prior?.dispose();
    for (const decoder of loaded.decoders ?? []) decoder.dispose();
    throw error;
  }
}

/** Loads a whole pipeline saved by `saveDalle2` (or trained by `dalle2 train`). Node only. */
export async function loadDalle2(dir: string): Promise<Dalle2> {
  const config = await readPipelineConfig(dir);
  const missing = [
    !config.clip && 'clip',
    !config.prior && 'prior',
    (!config.decoders || config.decoders.length === 0) && 'decoder',
  ].filter((name): name is string => typeof name === 'string');
  if (missing.length > 0) {
    throw new Error(
      `model folder ${dir} has no ${missing.join(', ')}: train it with \`dalle2 train ${missing[0]}\``,
    );
  }
  const { clip, prior, decoders } = await loadPipelineComponents(dir);
  try {
    return new Dalle2({ clip: clip!, prior: prior!, decoders: decoders!, sampling: config.sampling ?? {} });
  } catch (error) {
    clip?.dispose();
    prior?.dispose();
    for (const decoder of decoders ?? []) decoder.dispose();
    throw new Error(`model folder ${dir}: ${(error as Error).message}`, { cause: error });
  }
}

function build<T>(dir: string, name: string, make: () => T): T {
  try {
    // Inside a tidy, so that initial values a constructor leaves behind are freed (variables are kept).
    let built: T | undefined;
    tf.tidy(() => {
      built = make();
    });
    return built!;
  } catch (error) {
    throw new Error(
      `model folder ${dir}: the ${name} config in config.json is invalid: ${(error as Error).message}`,
    );
  }
}

async function loadWeights(dir: string, entry: ComponentEntry<unknown>, module: Module): Promise<void> {
  const { stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const path = join(dir, entry.weights);
  const bytes = await stat(path).then(
    (s) => s.size,
    () => -1,
  );
  if (bytes < 0) throw new Error(`model folder ${dir} is missing ${entry.weights}, which config.json names`);
  if (bytes !== entry.bytes) {
    throw new Error(
      `model folder ${dir}: ${entry.weights} has ${bytes} bytes but config.json says ${entry.bytes}: the files do not belong together`,
    );
  }
  try {
    await loadModuleWeights(module, path);
  } catch (error) {
    throw new Error(
      `model folder ${dir}: ${entry.weights} does not fit config.json: ${(error as Error).message}`,
    );
  }
}

/** Like `loadPipelineComponents`, but a folder that does not exist yet (or has no config.json) holds nothing. */
export async function loadPipelineComponentsIfAny(
  dir: string,
  which: readonly PipelineComponentName[],
): Promise<Omit<LoadedComponents, 'config'>> {
  const { stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const exists = await stat(join(dir, 'config.json')).then(
    () => true,
    () => false,
  );
  return exists ? loadPipelineComponents(dir, which) : {};
}
