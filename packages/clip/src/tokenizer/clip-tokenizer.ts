import { BPEModel, type BPEVocabulary } from './bpe-model.js';
import { unicodeToByte } from './byte-to-unicode.js';
import { parseMergesText } from './merges-text.js';
import { buildOpenAIVocab, OPENAI_CLIP_MERGE_COUNT } from './openai-vocab.js';
import { preTokenize } from './pre-tokenize.js';
import { END_OF_TEXT, END_OF_WORD, START_OF_TEXT } from './special-tokens.js';
import { textFromBytes } from './text-from-bytes.js';
import { parseTokenizerJson } from './tokenizer-json.js';
import { parseVocabJson } from './vocab-json.js';

export interface TokenizerLogger {
  warn(message: string): void;
}

export interface CLIPTokenizerOptions {
  /** Token used for symbols missing from the vocabulary; default `<|endoftext|>`, as in Hugging Face. */
  unknownToken?: string;
  /** Where the one-time truncation warning goes; default `console`. */
  logger?: TokenizerLogger;
}

export interface EncodeOptions {
  /** Wrap the ids in `<|startoftext|>` ... `<|endoftext|>`; default true. */
  addSpecialTokens?: boolean;
}

export interface EncodeBatchOptions {
  /** Ids per text, start and end tokens included; default 77, CLIP's context. */
  contextLength?: number;
  /** Id after the end token; default the end token's id, as OpenAI CLIP pads. */
  padId?: number;
  /** Cut long texts to fit, keeping the end token last; default true. When false, a long text throws. */
  truncate?: boolean;
}

export interface EncodedBatch {
  /** [B, L], row-major. */
  ids: Int32Array;
  shape: [batch: number, contextLength: number];
  /** [B, L]: 1 for start, text and end tokens, 0 for padding. */
  attentionMask: Int32Array;
}

export interface OpenAIMergesOptions extends CLIPTokenizerOptions {
  /** How many merges to read after the header; default 48894, the number OpenAI CLIP uses. */
  mergeCount?: number;
}

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

function requireString(text: unknown, where: string): string {
  if (typeof text !== 'string') {
    const got = text === null ? 'null' : Array.isArray(text) ? 'an array' : typeof text;
    throw new TypeError(`CLIPTokenizer.${where} expects a string, got ${got}`);
  }
  return text;
}

function requireInteger(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min)
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

/** OpenAI CLIP's byte-level BPE tokenizer; gives the ids of OpenAI's and Hugging Face's tokenizers. */
export class CLIPTokenizer {
  readonly startId: number;
  readonly endId: number;
  private readonly bpe: BPEModel;
  private readonly specialIds: ReadonlyMap<string, number>;
  private readonly logger: TokenizerLogger;
  private warnedAboutTruncation = false;

  constructor(
    vocabulary: BPEVocabulary,
    { unknownToken = END_OF_TEXT, logger = console }: CLIPTokenizerOptions = {},
  ) {
    this.bpe = new BPEModel(vocabulary, unknownToken);
    const specialId = (token: string) => {
      const id = vocabulary.vocab.get(token);
      if (id === undefined) throw new Error(`The vocabulary lacks the special token ${token}`);
      return id;
    };
    this.startId = specialId(START_OF_TEXT);
    this.endId = specialId(END_OF_TEXT);
    this.specialIds = new Map([
      [START_OF_TEXT, this.startId],
      [END_OF_TEXT, this.endId],
    ]);
    this.logger = logger;
  }

  /** OpenAI's `bpe_simple_vocab_16e6.txt`, as text or bytes (gzipped or not); the vocabulary follows from the merges. */
  static fromOpenAIMerges(
    merges: string | Uint8Array,
    { mergeCount = OPENAI_CLIP_MERGE_COUNT, ...options }: OpenAIMergesOptions = {},
  ): CLIPTokenizer {
    const parsed = parseMergesText(textFromBytes(merges), mergeCount);
    return new CLIPTokenizer({ vocab: buildOpenAIVocab(parsed), merges: parsed }, options);
  }

  /** Hugging Face's `vocab.json` and `merges.txt`. */
  static fromVocabAndMerges(
    vocabJson: string | Uint8Array | Readonly<Record<string, number>>,
    mergesTxt: string | Uint8Array,
    options?: CLIPTokenizerOptions,
  ): CLIPTokenizer {
    const vocab = parseVocabJson(
      typeof vocabJson === 'string' || vocabJson instanceof Uint8Array ? textFromBytes(vocabJson) : vocabJson,
    );
    return new CLIPTokenizer({ vocab, merges: parseMergesText(textFromBytes(mergesTxt)) }, options);
  }

  /** Hugging Face's `tokenizer.json`, as text, bytes or the parsed object. */
  static fromTokenizerJson(
    json: string | Uint8Array | Readonly<Record<string, unknown>>,
    options: CLIPTokenizerOptions = {},
  ): CLIPTokenizer {
    const parsed = parseTokenizerJson(json instanceof Uint8Array ? textFromBytes(json) : json);
    return new CLIPTokenizer(parsed, { unknownToken: parsed.unknownToken, ...options });
  }

  /** One more than the largest id: the rows a token embedding needs. */
  get vocabSize(): number {
    return this.bpe.size;
  }

  get vocab(): ReadonlyMap<string, number> {
    return this.bpe.vocab;
  }

  get merges(): BPEVocabulary['merges'] {
    return this.bpe.merges;
  }

  /** The ids of `text`, by default between the start and end tokens; no padding, no truncation. */
  encode(text: string, { addSpecialTokens = true }: EncodeOptions = {}): number[] {
    requireString(text, 'encode');
    const ids = addSpecialTokens ? [this.startId] : [];
    for (const word of preTokenize(text)) {
      const special = this.specialIds.get(word);
      if (special !== undefined) ids.push(special);
      else for (const id of this.bpe.encodeWord(word)) ids.push(id);
    }
    if (addSpecialTokens) ids.push(this.endId);
    return ids;
  }

  /** The BPE tokens of `text`, without start and end tokens. */
  tokenize(text: string): string[] {
    requireString(text, 'tokenize');
    return this.encode(text, { addSpecialTokens: false }).map((id) => this.bpe.tokenOf(id)!);
  }

  /** Encodes texts into a [B, L] batch: start, text, end, then padding. */
  encodeBatch(texts: readonly string[], options: EncodeBatchOptions = {}): EncodedBatch {
    if (!Array.isArray(texts)) throw new TypeError('CLIPTokenizer.encodeBatch expects an array of strings');
    const contextLength = requireInteger(options.contextLength ?? 77, 'contextLength', 2);
    const padId = requireInteger(options.padId ?? this.endId, 'padId', 0);
    const truncate = options.truncate ?? true;
    const ids = new Int32Array(texts.length * contextLength).fill(padId);
    const attentionMask = new Int32Array(texts.length * contextLength);
    texts.forEach((text, row) => {
      let encoded = this.encode(requireString(text, `encodeBatch (texts[${row}])`));
      if (encoded.length > contextLength) {
        if (!truncate) {
          throw new RangeError(
            `texts[${row}] encodes to ${encoded.length} tokens, more than contextLength ${contextLength}; ` +
              'pass truncate: true or a larger contextLength',
          );
        }
        this.warnTruncationOnce(contextLength);
        encoded = [...encoded.slice(0, contextLength - 1), this.endId];
      }
      ids.set(encoded, row * contextLength);
      attentionMask.fill(1, row * contextLength, row * contextLength + encoded.length);
    });
    return { ids, shape: [texts.length, contextLength], attentionMask };
  }

  /** Text from ids: special tokens dropped, `</w>` read as a space, bytes decoded as UTF-8. */
  decode(ids: ArrayLike<number>): string {
    const bytes: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id === this.startId || id === this.endId) continue;
      const token = this.bpe.tokenOf(id);
      if (token === undefined) throw new RangeError(`Id ${id} is not in the vocabulary`);
      const endsWord = token.endsWith(END_OF_WORD);
      for (const symbol of endsWord ? token.slice(0, -END_OF_WORD.length) : token) {
        const byte = unicodeToByte.get(symbol);
        if (byte !== undefined) bytes.push(byte);
        else bytes.push(...utf8Encoder.encode(symbol));
      }
      if (endsWord) bytes.push(0x20);
    }
    return utf8Decoder.decode(new Uint8Array(bytes)).trim();
  }

  private warnTruncationOnce(contextLength: number): void {
    if (this.warnedAboutTruncation) return;
    this.warnedAboutTruncation = true;
    this.logger.warn(
      `CLIPTokenizer: a text was longer than ${contextLength} tokens and was truncated, keeping the end token last`,
    );
  }
}
