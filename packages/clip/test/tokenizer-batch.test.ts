import { describe, expect, it } from 'vitest';
import { CLIPTokenizer, type TokenizerLogger } from '../src/tokenizer/index.js';

// A toy vocabulary in OpenAI's layout, from a few merges, so these tests need no files.
const mergesText = ['#version: 0.2', 'c a', 'ca t</w>', 'd o', 'do g</w>'].join('\n');

function makeTokenizer(warnings: string[] = []): CLIPTokenizer {
  const logger: TokenizerLogger = { warn: (message) => warnings.push(message) };
  return CLIPTokenizer.fromOpenAIMerges(mergesText, { logger });
}

describe('CLIPTokenizer.encode', () => {
  const tokenizer = makeTokenizer();
  const cat = tokenizer.vocab.get('cat</w>')!;
  const dog = tokenizer.vocab.get('dog</w>')!;
  const { startId, endId } = tokenizer;

  it('encodes empty and blank text as start and end only', () => {
    expect(tokenizer.encode('')).toEqual([startId, endId]);
    expect(tokenizer.encode(' \t\n ')).toEqual([startId, endId]);
  });

  it('lower-cases and folds white space', () => {
    expect(tokenizer.encode('  CAT\t\n DoG ')).toEqual([startId, cat, dog, endId]);
  });

  it('composes accents (NFC) as OpenAI and Hugging Face do', () => {
    expect(tokenizer.encode('cafe\u0301')).toEqual(tokenizer.encode('caf\u00e9'));
    expect(tokenizer.encode('cafe\u0301')).not.toEqual(tokenizer.encode('cafe'));
  });

  it('reads special tokens in the text as their ids', () => {
    expect(tokenizer.encode('cat<|endoftext|>dog')).toEqual([startId, cat, endId, dog, endId]);
  });

  it('throws a TypeError for anything but a string', () => {
    expect(() => tokenizer.encode(42 as unknown as string)).toThrow(TypeError);
    expect(() => tokenizer.encode(undefined as unknown as string)).toThrow(/expects a string, got undefined/);
    expect(() => tokenizer.encodeBatch(['cat', null as unknown as string])).toThrow(/texts\[1\].*got null/);
    expect(() => tokenizer.encodeBatch('cat' as unknown as string[])).toThrow(TypeError);
  });

  it('decodes ids to text without special tokens', () => {
    expect(tokenizer.decode(tokenizer.encode('Cat, dog!  3.5'))).toBe('cat , dog ! 3 . 5');
    expect(tokenizer.decode(Int32Array.from([startId, cat, endId, endId]))).toBe('cat');
    expect(() => tokenizer.decode([tokenizer.vocabSize])).toThrow(RangeError);
  });
});

describe('CLIPTokenizer.encodeBatch', () => {
  it('pads with the end token by default and masks the padding', () => {
    const tokenizer = makeTokenizer();
    const { startId: s, endId: e } = tokenizer;
    const cat = tokenizer.vocab.get('cat</w>')!;
    const batch = tokenizer.encodeBatch(['cat', ''], { contextLength: 5 });
    expect(batch.ids).toBeInstanceOf(Int32Array);
    expect(batch.shape).toEqual([2, 5]);
    expect(Array.from(batch.ids)).toEqual([s, cat, e, e, e, s, e, e, e, e]);
    expect(Array.from(batch.attentionMask)).toEqual([1, 1, 1, 0, 0, 1, 1, 0, 0, 0]);
  });

  it('defaults to a context of 77', () => {
    const batch = makeTokenizer().encodeBatch(['cat']);
    expect(batch.shape).toEqual([1, 77]);
  });

  it('pads with a chosen id', () => {
    const tokenizer = makeTokenizer();
    const batch = tokenizer.encodeBatch(['cat'], { contextLength: 4, padId: 0 });
    expect(Array.from(batch.ids)).toEqual([
      tokenizer.startId,
      tokenizer.vocab.get('cat</w>')!,
      tokenizer.endId,
      0,
    ]);
  });

  it('truncates keeping the end token last, and warns once', () => {
    const warnings: string[] = [];
    const tokenizer = makeTokenizer(warnings);
    const dog = tokenizer.vocab.get('dog</w>')!;
    const batch = tokenizer.encodeBatch(['dog dog dog dog', 'dog dog dog dog dog'], { contextLength: 4 });
    const row = [tokenizer.startId, dog, dog, tokenizer.endId];
    expect(Array.from(batch.ids)).toEqual([...row, ...row]);
    expect(Array.from(batch.attentionMask)).toEqual(Array(8).fill(1));
    tokenizer.encodeBatch(['dog dog dog'], { contextLength: 3 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/truncated/);
  });

  it('does not warn when nothing is truncated', () => {
    const warnings: string[] = [];
    makeTokenizer(warnings).encodeBatch(['dog dog'], { contextLength: 4 });
    expect(warnings).toEqual([]);
  });

  it('throws instead of truncating when asked to', () => {
    const tokenizer = makeTokenizer();
    expect(() => tokenizer.encodeBatch(['dog dog dog'], { contextLength: 4, truncate: false })).toThrow(
      /texts\[0\] encodes to 5 tokens/,
    );
  });

  it('rejects a context too short for the start and end tokens', () => {
    expect(() => makeTokenizer().encodeBatch(['cat'], { contextLength: 1 })).toThrow(RangeError);
  });
});
