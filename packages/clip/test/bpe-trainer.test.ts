import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BPE_FILE_FORMATS,
  CLIPTokenizer,
  formatBPEFiles,
  loadCLIPTokenizer,
  saveBPEFiles,
  trainBPE,
} from '../src/tokenizer/index.js';

const captions = [
  'a photo of a cat sitting on a mat',
  'a photo of a dog playing in the park',
  'the cat and the dog are friends',
  'A painting of the sea at night, with stars!',
  'a photo of the moon over the sea',
  'a small cat sleeping on the sofa',
  'a dog running on the beach at sunset',
  "the cat's toy is on the mat",
  'an oil painting of a cat wearing a hat',
  'a photo of 3 dogs and 2 cats',
];

const utf8Length = (text: string) => new TextEncoder().encode(text).length;

describe('trainBPE', () => {
  const trained = trainBPE(captions, { vocabSize: 600 });
  const tokenizer = new CLIPTokenizer(trained);

  it('lays the vocabulary out as OpenAI does: bytes, bytes with </w>, merges, specials', () => {
    const mergeCount = trained.merges.length;
    expect(mergeCount).toBeGreaterThan(20);
    expect(mergeCount).toBeLessThanOrEqual(600 - 514);
    expect(trained.vocab.get('!')).toBe(0);
    expect(trained.vocab.get('!</w>')).toBe(256);
    expect(trained.vocab.get(trained.merges[0]!.join(''))).toBe(512);
    expect(tokenizer.startId).toBe(512 + mergeCount);
    expect(tokenizer.endId).toBe(513 + mergeCount);
  });

  it('compresses the corpus: fewer tokens than bytes', () => {
    const corpus = captions.join(' ');
    const byteCount = utf8Length(corpus.replace(/\s/g, ''));
    const untrained = new CLIPTokenizer(trainBPE([], { vocabSize: 514 }));
    expect(untrained.encode(corpus, { addSpecialTokens: false })).toHaveLength(byteCount);
    const tokenCount = tokenizer.encode(corpus, { addSpecialTokens: false }).length;
    expect(tokenCount).toBeLessThan(byteCount * 0.6);
    expect(tokenizer.tokenize('a photo of the cat')).toEqual([
      'a</w>',
      'photo</w>',
      'of</w>',
      'the</w>',
      'cat</w>',
    ]);
  });

  it('merges the most frequent pair first', () => {
    const pairCounts = new Map<string, number>();
    for (const caption of captions) {
      for (const word of caption
        .toLowerCase()
        .match(/'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/gu) ?? []) {
        const symbols = [...word];
        symbols[symbols.length - 1] += '</w>';
        for (let i = 0; i < symbols.length - 1; i++) {
          const key = `${symbols[i]} ${symbols[i + 1]}`;
          pairCounts.set(key, (pairCounts.get(key) ?? 0) + 1);
        }
      }
    }
    const highest = Math.max(...pairCounts.values());
    const mostFrequent = [...pairCounts].filter(([, count]) => count === highest).map(([pair]) => pair);
    expect(mostFrequent).toContain(trained.merges[0]!.join(' '));
    // Ties go to the smaller left token: here "a t</w>" (from "cat", "at", "hat") beats "t h" and "h e</w>".
    expect(mostFrequent.sort()[0]).toBe(trained.merges[0]!.join(' '));
  });

  it('breaks ties by the smaller left, then right, token, whatever the caption order', () => {
    const tied = trainBPE(['xy xy zw zw ab ab'], { vocabSize: 520 });
    expect(tied.merges.slice(0, 3)).toEqual([
      ['a', 'b</w>'],
      ['x', 'y</w>'],
      ['z', 'w</w>'],
    ]);
    const reversed = trainBPE([...captions].reverse(), { vocabSize: 600 });
    expect(reversed.merges).toEqual(trained.merges);
  });

  it('stops at minFrequency and at vocabSize', () => {
    expect(trainBPE(['xy xy zw'], { vocabSize: 600 }).merges).toEqual([['x', 'y</w>']]);
    expect(trainBPE(['xy xy zw'], { vocabSize: 600, minFrequency: 1 }).merges).toHaveLength(2);
    expect(trainBPE(captions, { vocabSize: 520 }).merges).toHaveLength(6);
  });

  it('merges across earlier merges, and repeated pairs left to right', () => {
    const { merges } = trainBPE(['aaa aaa aaa'], { vocabSize: 600 });
    expect(merges).toEqual([
      ['a', 'a'],
      ['aa', 'a</w>'],
    ]);
  });

  it('round-trips text -> ids -> text', () => {
    const text = 'a photo of a cat and a dog on the beach at night';
    expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    expect(tokenizer.decode(tokenizer.encode('Zebra crossing ünïcode'))).toBe('zebra crossing ünïcode');
  });

  it('rejects bad options and non-string captions', () => {
    expect(() => trainBPE(captions, { vocabSize: 513 })).toThrow(/vocabSize must be an integer >= 514/);
    expect(() => trainBPE(captions, { vocabSize: 600, minFrequency: 0 })).toThrow(/minFrequency/);
    expect(() => trainBPE(['ok', 7 as unknown as string], { vocabSize: 600 })).toThrow(TypeError);
  });
});

describe('files written from a trained BPE', () => {
  const trained = trainBPE(captions, { vocabSize: 600 });
  const direct = new CLIPTokenizer(trained);
  const probe = [...captions, 'an unseen caption: 42 zebras', ''];

  it.each(BPE_FILE_FORMATS)('load back with the same ids (%s)', async (format) => {
    const dir = mkdtempSync(join(tmpdir(), `bpe-${format}-`));
    const paths = await saveBPEFiles(dir, trained, format);
    expect(paths.length).toBeGreaterThan(0);
    const loaded = await loadCLIPTokenizer(dir);
    expect(loaded.vocab).toEqual(direct.vocab);
    expect(loaded.merges).toEqual(trained.merges);
    for (const text of probe) expect(loaded.encode(text)).toEqual(direct.encode(text));
  });

  it('come back the same from the string loaders', () => {
    const openai = formatBPEFiles(trained, 'openai-merges');
    const hf = formatBPEFiles(trained, 'vocab-and-merges');
    const json = formatBPEFiles(trained, 'tokenizer-json');
    const tokenizers = [
      CLIPTokenizer.fromOpenAIMerges(openai['bpe_simple_vocab.txt']!),
      CLIPTokenizer.fromVocabAndMerges(hf['vocab.json']!, hf['merges.txt']!),
      CLIPTokenizer.fromTokenizerJson(json['tokenizer.json']!),
    ];
    for (const tokenizer of tokenizers) {
      for (const text of probe) expect(tokenizer.encode(text)).toEqual(direct.encode(text));
    }
  });

  it('names the valid formats when given an unknown one', () => {
    expect(() => formatBPEFiles(trained, 'sentencepiece' as never)).toThrow(
      /openai-merges, vocab-and-merges, tokenizer-json/,
    );
  });
});
