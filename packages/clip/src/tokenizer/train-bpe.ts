import type { Merge } from './bpe-model.js';
import { BASE_VOCAB_SIZE, buildOpenAIVocab } from './openai-vocab.js';
import { preTokenize, wordToSymbols } from './pre-tokenize.js';
import { PriorityQueue } from './priority-queue.js';
import { END_OF_TEXT, START_OF_TEXT } from './special-tokens.js';

export interface TrainBPEOptions {
  /** Ids in the learned vocabulary, laid out as OpenAI's: 512 byte symbols, one per merge, 2 special tokens. */
  vocabSize: number;
  /**
   * Pairs seen fewer times than this are never merged, so training may stop short of `vocabSize`.
   * Default 2: merging a pair seen once only memorises one word.
   */
  minFrequency?: number;
}

export interface TrainedBPE {
  vocab: Map<string, number>;
  merges: Merge[];
}

const SPECIAL_TOKEN_COUNT = 2;
// Symbol ids stay far below this, so `left * PAIR_KEY_BASE + right` is an exact, unique integer.
const PAIR_KEY_BASE = 2 ** 26;

interface PairCount {
  key: number;
  count: number;
}

function countWords(captions: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  let index = 0;
  for (const caption of captions) {
    if (typeof caption !== 'string')
      throw new TypeError(`trainBPE expects strings; caption ${index} is ${typeof caption}`);
    for (const word of preTokenize(caption)) {
      if (word !== START_OF_TEXT && word !== END_OF_TEXT) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
    index++;
  }
  return counts;
}

function mergePair(symbols: readonly number[], left: number, right: number, merged: number): number[] {
  const result: number[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (symbols[i] === left && symbols[i + 1] === right && i + 1 < symbols.length) {
      result.push(merged);
      i++;
    } else {
      result.push(symbols[i]!);
    }
  }
  return result;
}

/**
 * Learns CLIP-style BPE merges from captions, with the tokenizer's own pre-tokenisation (lower-case, the
 * CLIP split pattern, byte symbols, `</w>` word ends). Each step merges the most frequent adjacent pair;
 * ties go to the pair whose left, then right, token sorts first, so a corpus always gives the same merges.
 * The result loads into `CLIPTokenizer` directly or through any of the file formats.
 */
export function trainBPE(
  captions: Iterable<string>,
  { vocabSize, minFrequency = 2 }: TrainBPEOptions,
): TrainedBPE {
  const minVocabSize = BASE_VOCAB_SIZE + SPECIAL_TOKEN_COUNT;
  if (!Number.isInteger(vocabSize) || vocabSize < minVocabSize) {
    throw new RangeError(
      `vocabSize must be an integer >= ${minVocabSize} (512 byte symbols and 2 special tokens), got ${vocabSize}`,
    );
  }
  if (!Number.isInteger(minFrequency) || minFrequency < 1) {
    throw new RangeError(`minFrequency must be an integer >= 1, got ${minFrequency}`);
  }

  const symbolNames: string[] = [];
  const symbolIds = new Map<string, number>();
  const symbolId = (name: string): number => {
    let id = symbolIds.get(name);
    if (id === undefined) {
      id = symbolNames.length;
      symbolNames.push(name);
      symbolIds.set(name, id);
    }
    return id;
  };

  const words: number[][] = [];
  const wordCounts: number[] = [];
  for (const [word, count] of countWords(captions)) {
    words.push(wordToSymbols(word).map(symbolId));
    wordCounts.push(count);
  }

  const pairCounts = new Map<number, number>();
  // May list words that no longer hold the pair; those are skipped when the pair is merged.
  const wordsWithPair = new Map<number, Set<number>>();
  const changedPairs = new Set<number>();
  const countPairs = (word: number, sign: 1 | -1) => {
    const symbols = words[word]!;
    for (let i = 0; i < symbols.length - 1; i++) {
      const key = symbols[i]! * PAIR_KEY_BASE + symbols[i + 1]!;
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + sign * wordCounts[word]!);
      changedPairs.add(key);
      if (sign > 0) {
        const holders = wordsWithPair.get(key);
        if (holders) holders.add(word);
        else wordsWithPair.set(key, new Set([word]));
      }
    }
  };

  const left = (key: number) => symbolNames[Math.floor(key / PAIR_KEY_BASE)]!;
  const right = (key: number) => symbolNames[key % PAIR_KEY_BASE]!;
  const queue = new PriorityQueue<PairCount>((a, b) => {
    if (a.count !== b.count) return a.count > b.count;
    const [leftA, leftB] = [left(a.key), left(b.key)];
    return leftA !== leftB ? leftA < leftB : right(a.key) < right(b.key);
  });
  const queueChangedPairs = () => {
    for (const key of changedPairs) {
      const count = pairCounts.get(key)!;
      if (count > 0) queue.push({ key, count });
      else pairCounts.delete(key);
    }
    changedPairs.clear();
  };

  for (let word = 0; word < words.length; word++) countPairs(word, 1);
  queueChangedPairs();

  const merges: Merge[] = [];
  const mergeCount = vocabSize - minVocabSize;
  while (merges.length < mergeCount) {
    const best = queue.pop();
    if (!best) break;
    // The queue keeps outdated counts; only an entry matching the current count is live.
    if (pairCounts.get(best.key) !== best.count) continue;
    if (best.count < minFrequency) break;
    const leftId = Math.floor(best.key / PAIR_KEY_BASE);
    const rightId = best.key % PAIR_KEY_BASE;
    const leftName = symbolNames[leftId]!;
    const rightName = symbolNames[rightId]!;
    const mergedId = symbolId(leftName + rightName);
    merges.push([leftName, rightName]);
    for (const word of wordsWithPair.get(best.key) ?? []) {
      const merged = mergePair(words[word]!, leftId, rightId, mergedId);
      if (merged.length === words[word]!.length) continue;
      countPairs(word, -1);
      words[word] = merged;
      countPairs(word, 1);
    }
    wordsWithPair.delete(best.key);
    queueChangedPairs();
  }
  return { vocab: buildOpenAIVocab(merges), merges };
}
