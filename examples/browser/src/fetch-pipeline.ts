import { CLIPImageProcessor, CLIPModel, CLIPTokenizer } from '@dalle2js/clip';
import { loadStateDict, type Module, parseSafetensors } from '@dalle2js/core';
import { type ComponentEntry, Dalle2, Decoder, type PipelineConfig } from '@dalle2js/dalle2';
import { DiffusionPrior } from '@dalle2js/prior';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Loads a pipeline folder (what `saveDalle2` writes) from a URL: the browser's counterpart of
 * `loadDalle2`, which reads files. `baseUrl` ends with a slash; the tokenizer must be stored as
 * vocab.json + merges.txt (scripts/prepare-public.mjs makes sure of it).
 */
export async function fetchDalle2(baseUrl: string): Promise<Dalle2> {
  const url = (name: string) => new URL(name, baseUrl).href;
  const config = (await (await get(url('config.json'))).json()) as PipelineConfig;
  if (config.format !== 'dalle2js-pipeline')
    throw new Error(`${url('config.json')} is not a dalle2js pipeline`);
  const { clip: clipEntry, prior: priorEntry, decoders: decoderEntries } = config;
  if (!clipEntry || !priorEntry || !decoderEntries?.length) {
    throw new Error(`${baseUrl} lacks a component: a pipeline needs clip, prior and decoders`);
  }

  const built: { dispose(): void }[] = [];
  const build = <T extends { dispose(): void }>(make: () => T): T => {
    // Inside a tidy, so that initial values a constructor leaves behind are freed (variables stay).
    let module: T | undefined;
    tf.tidy(() => {
      module = make();
    });
    built.push(module!);
    return module!;
  };
  try {
    const clip = build(() => new CLIPModel(clipEntry.config, { init: 'zeros' }));
    const prior = build(() => new DiffusionPrior(priorEntry.config));
    const decoders = decoderEntries.map((entry) => build(() => new Decoder(entry.config)));
    const tokenizerUrl = (name: string) => url(`${clipEntry.tokenizer}/${name}`);
    const [vocab, merges] = await Promise.all([
      get(tokenizerUrl('vocab.json')).then((r) => r.text()),
      get(tokenizerUrl('merges.txt')).then((r) => r.text()),
      loadWeights(url, clipEntry, clip),
      loadWeights(url, priorEntry, prior.network),
      ...decoderEntries.map((entry, i) => loadWeights(url, entry, decoders[i]!.unet)),
    ]);
    clip.tokenizer = CLIPTokenizer.fromVocabAndMerges(vocab as string, merges as string);
    clip.imageProcessor = CLIPImageProcessor.fromPreprocessorConfig(clipEntry.imageProcessor);
    return new Dalle2({ clip, prior, decoders, sampling: config.sampling ?? {} });
  } catch (error) {
    for (const module of built) module.dispose();
    throw error;
  }
}

async function get(url: string): Promise<Response> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

async function loadWeights(
  url: (name: string) => string,
  entry: ComponentEntry<unknown>,
  module: Module,
): Promise<void> {
  const bytes = new Uint8Array(await (await get(url(entry.weights))).arrayBuffer());
  if (bytes.length !== entry.bytes) {
    throw new Error(`${url(entry.weights)} has ${bytes.length} bytes but config.json says ${entry.bytes}`);
  }
  try {
    loadStateDict(module, parseSafetensors(bytes).tensors);
  } catch (error) {
    throw new Error(`${url(entry.weights)}: ${(error as Error).message}`, { cause: error });
  }
}
