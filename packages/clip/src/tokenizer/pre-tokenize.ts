import { byteToUnicode } from './byte-to-unicode.js';
import { END_OF_WORD } from './special-tokens.js';

/** OpenAI CLIP's split pattern: special tokens, English contractions, letter runs, single digits, symbol runs. */
export const CLIP_SPLIT_PATTERN =
  "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

const splitRegex = new RegExp(CLIP_SPLIT_PATTERN, 'giu');
const utf8 = new TextEncoder();

/** NFC (as ftfy and Hugging Face do), white space runs folded to one space, trimmed, lower-cased. */
export function normalizeText(text: string): string {
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim().toLowerCase();
}

/** The words BPE runs on, in order: the normalised text cut by {@link CLIP_SPLIT_PATTERN}. */
export function preTokenize(text: string): string[] {
  return normalizeText(text).match(splitRegex) ?? [];
}

/** A word's UTF-8 bytes as byte characters, the last one carrying `</w>`. */
export function wordToSymbols(word: string): string[] {
  const symbols = Array.from(utf8.encode(word), (byte) => byteToUnicode[byte]!);
  const last = symbols.length - 1;
  if (last >= 0) symbols[last] += END_OF_WORD;
  return symbols;
}
