import type { CLIPModel } from '@dalle2js/clip';
import { formatBPEFiles } from '@dalle2js/clip';
import { saveModuleWeights, writeFileAtomic } from '@dalle2js/core';
import type { DiffusionPrior } from '@dalle2js/prior';
import type { Decoder } from '../decoder/decoder.js';
import type { Dalle2 } from './dalle2.js';
import type { SamplingDefaults } from './generate-options.js';
import { packageVersions } from './package-versions.js';
import {
  CLIP_WEIGHTS_FILE,
  decoderWeightsFile,
  PIPELINE_CONFIG_FILE,
  PIPELINE_FORMAT,
  PIPELINE_FORMAT_VERSION,
  type PipelineConfig,
  PRIOR_WEIGHTS_FILE,
  readPipelineConfig,
  TOKENIZER_DIR,
} from './pipeline-config.js';

/** Components to write into a pipeline folder; the ones left out keep what the folder holds. */
export interface PipelineComponents {
  clip?: CLIPModel;
  prior?: DiffusionPrior;
  decoders?: readonly Decoder[];
  sampling?: SamplingDefaults;
}

/** Saves a whole pipeline into `dir` (made if missing): `config.json` plus one safetensors file per component. Node only. */
export async function saveDalle2(pipeline: Dalle2, dir: string): Promise<void> {
  await savePipelineComponents(dir, {
    clip: pipeline.clip,
    prior: pipeline.prior,
    decoders: pipeline.decoders,
    sampling: pipeline.sampling,
  });
}

/**
 * Writes the given components into the pipeline folder `dir`, each file atomically, and
 * `config.json` last, so that a reader never sees a config that names a file not yet written.
 * Node only.
 */
export async function savePipelineComponents(dir: string, components: PipelineComponents): Promise<void> {
  const { mkdir, stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(dir, { recursive: true });
  const exists = await stat(join(dir, PIPELINE_CONFIG_FILE)).then(
    () => true,
    () => false,
  );
  const previous: Partial<PipelineConfig> = exists ? await readPipelineConfig(dir) : {};
  const size = async (file: string) => (await stat(join(dir, file))).size;
  const config: PipelineConfig = {
    format: PIPELINE_FORMAT,
    formatVersion: PIPELINE_FORMAT_VERSION,
    versions: await packageVersions(),
    ...(previous.clip ? { clip: previous.clip } : {}),
    ...(previous.prior ? { prior: previous.prior } : {}),
    ...(previous.decoders ? { decoders: previous.decoders } : {}),
  };
  const { clip, prior, decoders, sampling = previous.sampling } = components;
  if (clip) {
    if (clip.tokenizer === undefined)
      throw new Error('savePipelineComponents: the CLIP model has no tokenizer');
    await saveModuleWeights(clip, join(dir, CLIP_WEIGHTS_FILE));
    await mkdir(join(dir, TOKENIZER_DIR), { recursive: true });
    for (const [name, contents] of Object.entries(formatBPEFiles(clip.tokenizer, 'vocab-and-merges'))) {
      await writeFileAtomic(join(dir, TOKENIZER_DIR, name), new TextEncoder().encode(contents));
    }
    config.clip = {
      config: clip.config,
      imageProcessor: clip.imageProcessor.toPreprocessorConfig(),
      tokenizer: TOKENIZER_DIR,
      weights: CLIP_WEIGHTS_FILE,
      bytes: await size(CLIP_WEIGHTS_FILE),
    };
  }
  if (prior) {
    await saveModuleWeights(prior.network, join(dir, PRIOR_WEIGHTS_FILE));
    config.prior = {
      config: prior.config,
      weights: PRIOR_WEIGHTS_FILE,
      bytes: await size(PRIOR_WEIGHTS_FILE),
    };
  }
  if (decoders) {
    config.decoders = [];
    for (const [i, decoder] of decoders.entries()) {
      const file = decoderWeightsFile(i);
      await saveModuleWeights(decoder.unet, join(dir, file));
      config.decoders.push({ config: decoder.config, weights: file, bytes: await size(file) });
    }
  }
  if (sampling !== undefined && Object.keys(sampling).length > 0) config.sampling = { ...sampling };
  const json = new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`);
  await writeFileAtomic(join(dir, PIPELINE_CONFIG_FILE), json);
}
