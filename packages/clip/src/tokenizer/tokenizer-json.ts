import type { BPEVocabulary, Merge } from './bpe-model.js';
import { CLIP_SPLIT_PATTERN } from './pre-tokenize.js';
import { END_OF_TEXT, END_OF_WORD, START_OF_TEXT } from './special-tokens.js';
import { parseVocabJson } from './vocab-json.js';

export interface ParsedTokenizerJson extends BPEVocabulary {
  vocab: Map<string, number>;
  merges: Merge[];
  unknownToken: string | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseMerge(entry: unknown, index: number): Merge {
  const parts = typeof entry === 'string' ? entry.split(' ') : entry;
  if (Array.isArray(parts) && parts.length === 2 && parts.every((part) => typeof part === 'string' && part)) {
    return [parts[0] as string, parts[1] as string];
  }
  throw new TypeError(`tokenizer.json model.merges[${index}] is neither "left right" nor [left, right]`);
}

/**
 * Reads the BPE model of a Hugging Face `tokenizer.json`: `model.vocab`, `model.merges` (either "a b"
 * strings or [a, b] pairs) and the ids of `added_tokens`, which may be missing from `model.vocab`.
 */
export function parseTokenizerJson(json: string | Readonly<Record<string, unknown>>): ParsedTokenizerJson {
  const root = typeof json === 'string' ? (JSON.parse(json) as unknown) : json;
  const model = isRecord(root) ? root.model : undefined;
  if (!isRecord(root) || !isRecord(model)) throw new TypeError('tokenizer.json has no "model" object');
  if (model.type !== undefined && model.type !== 'BPE') {
    throw new Error(`tokenizer.json holds a ${String(model.type)} model; CLIP's tokenizer needs "BPE"`);
  }
  if (model.end_of_word_suffix !== END_OF_WORD) {
    throw new Error(
      `tokenizer.json's end_of_word_suffix is ${JSON.stringify(model.end_of_word_suffix)}; CLIP's is "${END_OF_WORD}"`,
    );
  }
  if (!isRecord(model.vocab) || !Array.isArray(model.merges)) {
    throw new TypeError('tokenizer.json model needs a "vocab" object and a "merges" array');
  }
  const vocab = parseVocabJson(model.vocab);
  for (const added of Array.isArray(root.added_tokens) ? root.added_tokens : []) {
    if (isRecord(added) && typeof added.content === 'string' && typeof added.id === 'number') {
      vocab.set(added.content, added.id);
    }
  }
  return {
    vocab,
    merges: model.merges.map(parseMerge),
    unknownToken: typeof model.unk_token === 'string' ? model.unk_token : undefined,
  };
}

function requireId(vocab: ReadonlyMap<string, number>, token: string): number {
  const id = vocab.get(token);
  if (id === undefined) throw new Error(`The vocabulary lacks ${token}`);
  return id;
}

/** Writes a `tokenizer.json` that Hugging Face's `tokenizers` loads as CLIP's tokenizer, and so do we. */
export function formatTokenizerJson({ vocab, merges }: BPEVocabulary): string {
  const startId = requireId(vocab, START_OF_TEXT);
  const endId = requireId(vocab, END_OF_TEXT);
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(startId, START_OF_TEXT), special(endId, END_OF_TEXT)],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFC' },
        { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          // The special tokens are added tokens in tokenizers, so the pattern leaves them out.
          pattern: { Regex: CLIP_SPLIT_PATTERN.replace(`<\\|startoftext\\|>|<\\|endoftext\\|>|`, '') },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [END_OF_TEXT, endId],
      cls: [START_OF_TEXT, startId],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: END_OF_TEXT,
      continuing_subword_prefix: '',
      end_of_word_suffix: END_OF_WORD,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries([...vocab].sort((a, b) => a[1] - b[1])),
      merges: merges.map(([left, right]) => [left, right]),
    },
  };
  return JSON.stringify(tokenizer);
}
