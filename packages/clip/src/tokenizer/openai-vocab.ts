import type { Merge } from './bpe-model.js';
import { byteSymbolsInVocabOrder } from './byte-to-unicode.js';
import { END_OF_TEXT, END_OF_WORD, START_OF_TEXT } from './special-tokens.js';

/** The merges OpenAI CLIP uses from its file: 49152 - 256 - 2, giving a 49408-token vocabulary. */
export const OPENAI_CLIP_MERGE_COUNT = 49152 - 256 - 2;

/** The number of ids before the first merge: 256 byte symbols and the same with `</w>`. */
export const BASE_VOCAB_SIZE = 2 * byteSymbolsInVocabOrder.length;

/**
 * OpenAI's vocabulary, implied by the merges: byte symbols, the same with `</w>`, one id per merge (the
 * concatenated pair), then `<|startoftext|>` and `<|endoftext|>`. Where two merges spell the same token, the
 * later id wins, as in OpenAI's dictionary.
 */
export function buildOpenAIVocab(merges: readonly Merge[]): Map<string, number> {
  const tokens = [
    ...byteSymbolsInVocabOrder,
    ...byteSymbolsInVocabOrder.map((symbol) => symbol + END_OF_WORD),
    ...merges.map(([left, right]) => left + right),
    START_OF_TEXT,
    END_OF_TEXT,
  ];
  return new Map(tokens.map((token, id) => [token, id]));
}
