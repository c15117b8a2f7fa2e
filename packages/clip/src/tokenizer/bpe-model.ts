import { wordToSymbols } from './pre-tokenize.js';

export type Merge = readonly [left: string, right: string];

/** A vocabulary (token -> id) and merges in rank order: what every file format holds. */
export interface BPEVocabulary {
  vocab: ReadonlyMap<string, number>;
  merges: readonly Merge[];
}

// Unbounded caches grow without limit over a training run's captions; clearing when full is enough, since
// the words that matter come back and are cached again.
const MAX_CACHED_WORDS = 100_000;

/** Byte-level BPE over one word at a time: applies merges by rank, lowest first, and caches the result. */
export class BPEModel implements BPEVocabulary {
  readonly vocab: ReadonlyMap<string, number>;
  readonly merges: readonly Merge[];
  private readonly tokens: (string | undefined)[] = [];
  /** Pairs are keyed as `leftId * pairKeyBase + rightId`, which stays an exact integer for any vocabulary. */
  private readonly pairKeyBase: number;
  private readonly rankOfPair = new Map<number, number>();
  private readonly mergedIdOfRank: Int32Array;
  private readonly unknownId: number | undefined;
  private readonly cache = new Map<string, readonly number[]>();

  constructor({ vocab, merges }: BPEVocabulary, unknownToken?: string) {
    this.vocab = vocab;
    this.merges = merges;
    for (const [token, id] of vocab) {
      if (!Number.isInteger(id) || id < 0)
        throw new Error(`Token ${JSON.stringify(token)} has invalid id ${id}`);
      this.tokens[id] = token;
    }
    this.pairKeyBase = this.tokens.length;
    this.unknownId = unknownToken === undefined ? undefined : vocab.get(unknownToken);
    this.mergedIdOfRank = new Int32Array(merges.length);
    merges.forEach((merge, rank) => {
      const [left, right] = merge;
      const leftId = this.requireId(left, rank, merge);
      const rightId = this.requireId(right, rank, merge);
      this.mergedIdOfRank[rank] = this.requireId(left + right, rank, merge);
      this.rankOfPair.set(leftId * this.pairKeyBase + rightId, rank);
    });
  }

  /** One more than the largest id. */
  get size(): number {
    return this.tokens.length;
  }

  tokenOf(id: number): string | undefined {
    return this.tokens[id];
  }

  /** The ids of one pre-tokenised word (see `preTokenize`). */
  encodeWord(word: string): readonly number[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    const ids = this.mergeAll(wordToSymbols(word).map((symbol) => this.symbolId(symbol, word)));
    if (this.cache.size >= MAX_CACHED_WORDS) this.cache.clear();
    this.cache.set(word, ids);
    return ids;
  }

  private mergeAll(ids: number[]): number[] {
    while (ids.length > 1) {
      let bestRank = Number.POSITIVE_INFINITY;
      let bestAt = -1;
      for (let i = 0; i < ids.length - 1; i++) {
        const rank = this.rankOfPair.get(ids[i]! * this.pairKeyBase + ids[i + 1]!);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          bestAt = i;
        }
      }
      if (bestAt < 0) break;
      const left = ids[bestAt]!;
      const right = ids[bestAt + 1]!;
      const mergedId = this.mergedIdOfRank[bestRank]!;
      const merged = ids.slice(0, bestAt);
      for (let i = bestAt; i < ids.length; i++) {
        if (ids[i] === left && ids[i + 1] === right && i + 1 < ids.length) {
          merged.push(mergedId);
          i++;
        } else {
          merged.push(ids[i]!);
        }
      }
      ids = merged;
    }
    return ids;
  }

  private symbolId(symbol: string, word: string): number {
    const id = this.vocab.get(symbol) ?? this.unknownId;
    if (id === undefined) {
      throw new Error(
        `The vocabulary has no token ${JSON.stringify(symbol)} (in ${JSON.stringify(word)}) and no unknown token`,
      );
    }
    return id;
  }

  private requireId(token: string, rank: number, merge: Merge): number {
    const id = this.vocab.get(token);
    if (id === undefined) {
      throw new Error(
        `Merge ${rank} (${JSON.stringify(merge.join(' '))}) needs ${JSON.stringify(token)}, which the vocabulary lacks`,
      );
    }
    return id;
  }
}
