import type { CLIPConfig } from '@dalle2js/clip';
import type { ResolvedDiffusionPriorConfig } from '@dalle2js/prior';
import type { ResolvedDecoderConfig } from '../decoder/decoder-config.js';
import { checkSamplingDefaults, type SamplingDefaults } from './generate-options.js';

export const PIPELINE_FORMAT = 'dalle2js-pipeline';
export const PIPELINE_FORMAT_VERSION = 1;
export const PIPELINE_CONFIG_FILE = 'config.json';
export const CLIP_WEIGHTS_FILE = 'clip.safetensors';
export const TOKENIZER_DIR = 'tokenizer';
export const PRIOR_WEIGHTS_FILE = 'prior.safetensors';
export const decoderWeightsFile = (index: number) => `decoder-${index}.safetensors`;

/** A component's entry: its config, its weights file and that file's size (a cheap check that the file is the one saved). */
export interface ComponentEntry<C> {
  config: C;
  weights: string;
  bytes: number;
}

/**
 * A pipeline folder's `config.json`: every component's config, the versions that wrote it, and
 * one safetensors file per component beside it. A folder being trained may lack components.
 */
export interface PipelineConfig {
  format: typeof PIPELINE_FORMAT;
  formatVersion: number;
  versions: Record<string, string>;
  clip?: ComponentEntry<CLIPConfig> & { imageProcessor: Record<string, unknown>; tokenizer: string };
  prior?: ComponentEntry<ResolvedDiffusionPriorConfig>;
  decoders?: ComponentEntry<ResolvedDecoderConfig>[];
  /** Guidance recommended for these models; `generate` uses it where it is not told. */
  sampling?: SamplingDefaults;
}

/** Reads and checks `dir/config.json`; every error names the folder and the field. Node only. */
export async function readPipelineConfig(dir: string): Promise<PipelineConfig> {
  const { readFile, stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw new Error(`model folder ${dir} does not exist`);
  const path = join(dir, PIPELINE_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`model folder ${dir} has no ${PIPELINE_CONFIG_FILE}: it is not a dalle2js pipeline`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const fail = (field: string, rule: string): never => {
    throw new Error(`${path}: field "${field}" ${rule}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('(root)', 'must be an object');
  const config = json as Record<string, unknown>;
  if (config.format !== PIPELINE_FORMAT)
    fail('format', `must be "${PIPELINE_FORMAT}", got ${JSON.stringify(config.format)}`);
  if (config.formatVersion !== PIPELINE_FORMAT_VERSION) {
    fail(
      'formatVersion',
      `must be ${PIPELINE_FORMAT_VERSION} (this version of dalle2js), got ${JSON.stringify(config.formatVersion)}`,
    );
  }
  const checkEntry = (field: string, entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) fail(field, 'must be an object');
    const e = entry as Record<string, unknown>;
    if (typeof e.config !== 'object' || e.config === null) fail(`${field}.config`, 'must be an object');
    if (typeof e.weights !== 'string' || e.weights.includes('/') || e.weights.includes('\\')) {
      fail(`${field}.weights`, 'must be a file name in the folder');
    }
    if (!Number.isSafeInteger(e.bytes)) fail(`${field}.bytes`, 'must be an integer');
  };
  if (config.clip !== undefined) {
    checkEntry('clip', config.clip);
    const clip = config.clip as Record<string, unknown>;
    if (typeof clip.imageProcessor !== 'object' || clip.imageProcessor === null)
      fail('clip.imageProcessor', 'must be an object');
    if (typeof clip.tokenizer !== 'string') fail('clip.tokenizer', 'must be a folder name');
  }
  if (config.prior !== undefined) checkEntry('prior', config.prior);
  if (config.decoders !== undefined) {
    if (!Array.isArray(config.decoders)) fail('decoders', 'must be an array');
    for (const [i, entry] of (config.decoders as unknown[]).entries()) checkEntry(`decoders[${i}]`, entry);
  }
  if (config.sampling !== undefined) {
    try {
      checkSamplingDefaults(config.sampling);
    } catch (error) {
      fail('sampling', `is invalid: ${(error as Error).message}`);
    }
  }
  return config as unknown as PipelineConfig;
}
