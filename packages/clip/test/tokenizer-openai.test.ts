import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIPTokenizer } from '../src/tokenizer/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const shared = resolve(repoRoot, '../shared');
const mergesPath = resolve(shared, 'vocab/bpe_simple_vocab_16e6.txt');
const fixture = JSON.parse(
  readFileSync(resolve(shared, 'fixtures/clip-tokenizer/clip_tokenizer_openai.json'), 'utf8'),
) as { texts: string[]; ids: number[][]; ids_padded_77: number[][] };

describe('CLIPTokenizer with OpenAI CLIP merges', () => {
  let tokenizer: CLIPTokenizer;

  beforeAll(() => {
    tokenizer = CLIPTokenizer.fromOpenAIMerges(readFileSync(mergesPath, 'utf8'));
  });

  it('builds the 49408-token vocabulary with start 49406 and end 49407', () => {
    expect(tokenizer.vocabSize).toBe(49408);
    expect(tokenizer.vocab.size).toBe(49408);
    expect(tokenizer.merges).toHaveLength(48894);
    expect(tokenizer.startId).toBe(49406);
    expect(tokenizer.endId).toBe(49407);
    expect(tokenizer.vocab.get('a</w>')).toBe(320);
  });

  it('gives the known ids from the conformance notes', () => {
    expect(tokenizer.encode('a photo of a cat')).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
    expect(tokenizer.encode('hello world 2024')).toEqual([49406, 3306, 1002, 273, 271, 273, 275, 49407]);
  });

  it("matches Hugging Face's ids on all 24 prompts", () => {
    expect(fixture.texts).toHaveLength(24);
    fixture.texts.forEach((text, i) => {
      expect(tokenizer.encode(text), JSON.stringify(text)).toEqual(fixture.ids[i]);
    });
  });

  it("matches Hugging Face's padded and truncated batch of 77", () => {
    const batch = tokenizer.encodeBatch(fixture.texts, { contextLength: 77 });
    expect(batch.shape).toEqual([24, 77]);
    fixture.ids_padded_77.forEach((expected, row) => {
      expect(Array.from(batch.ids.subarray(row * 77, (row + 1) * 77))).toEqual(expected);
      const length = Math.min(fixture.ids[row]!.length, 77);
      const mask = Array.from(batch.attentionMask.subarray(row * 77, (row + 1) * 77));
      expect(mask).toEqual([...Array(length).fill(1), ...Array(77 - length).fill(0)]);
    });
  });
});
