import type { BPEVocabulary } from './bpe-model.js';
import { formatMergesText } from './merges-text.js';
import { formatTokenizerJson } from './tokenizer-json.js';
import { formatVocabJson } from './vocab-json.js';

export const BPE_FILE_FORMATS = ['openai-merges', 'vocab-and-merges', 'tokenizer-json'] as const;
export type BPEFileFormat = (typeof BPE_FILE_FORMATS)[number];

/** The files of one format, by name: what {@link saveBPEFiles} writes, for callers that store them elsewhere. */
export function formatBPEFiles(bpe: BPEVocabulary, format: BPEFileFormat): Record<string, string> {
  switch (format) {
    case 'openai-merges':
      return { 'bpe_simple_vocab.txt': formatMergesText(bpe.merges) };
    case 'vocab-and-merges':
      return { 'vocab.json': formatVocabJson(bpe.vocab), 'merges.txt': formatMergesText(bpe.merges) };
    case 'tokenizer-json':
      return { 'tokenizer.json': formatTokenizerJson(bpe) };
    default:
      throw new Error(
        `Unknown BPE file format ${JSON.stringify(format)}; expected one of ${BPE_FILE_FORMATS.join(', ')}`,
      );
  }
}

/**
 * Node only: writes a vocabulary and merges into `dir` in one of the formats `loadCLIPTokenizer` reads.
 * The OpenAI format stores merges alone, so it round-trips vocabularies laid out as OpenAI's (as `trainBPE`
 * makes them). Returns the paths written.
 */
export async function saveBPEFiles(
  dir: string,
  bpe: BPEVocabulary,
  format: BPEFileFormat,
): Promise<string[]> {
  const files = formatBPEFiles(bpe, format);
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    await writeFile(path, text, 'utf8');
    paths.push(path);
  }
  return paths;
}
