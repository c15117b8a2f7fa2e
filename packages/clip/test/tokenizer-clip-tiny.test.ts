import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLIPTokenizer, type TokenizerLogger } from '../src/tokenizer/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtureDir = resolve(repoRoot, '../shared/fixtures/clip-tiny');
const tokens = JSON.parse(readFileSync(resolve(fixtureDir, 'tokens.json'), 'utf8')) as {
  context_length: number;
  bos: number;
  eos: number;
  texts: string[];
  ids_unpadded: number[][];
};

/** One int32 tensor of a safetensors file: an 8-byte header length, a JSON header, then the data. */
function readInt32Tensor(path: string, name: string): { shape: number[]; values: number[] } {
  const bytes = readFileSync(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const entry = header[name]!;
  expect(entry.dtype).toBe('I32');
  const [begin, end] = entry.data_offsets;
  const data = bytes.subarray(8 + headerLength + begin, 8 + headerLength + end);
  const values = Array.from({ length: data.length / 4 }, (_, i) => data.readInt32LE(i * 4));
  return { shape: entry.shape, values };
}

describe('CLIPTokenizer on the tiny CLIP fixture (vocab.json + merges.txt)', () => {
  const warnings: string[] = [];
  const logger: TokenizerLogger = { warn: (message) => warnings.push(message) };
  const tokenizer = CLIPTokenizer.fromVocabAndMerges(
    readFileSync(resolve(fixtureDir, 'vocab.json'), 'utf8'),
    readFileSync(resolve(fixtureDir, 'merges.txt'), 'utf8'),
    { logger },
  );

  it('finds the special tokens', () => {
    expect(tokenizer.startId).toBe(tokens.bos);
    expect(tokenizer.endId).toBe(tokens.eos);
  });

  it('gives the ids transformers gave, including accents and an emoji', () => {
    tokens.texts.forEach((text, i) => {
      expect(tokenizer.encode(text), JSON.stringify(text)).toEqual(tokens.ids_unpadded[i]);
    });
  });

  it("matches the model fixture's padded input_ids and attention_mask", () => {
    const path = resolve(fixtureDir, 'expected.safetensors');
    const inputIds = readInt32Tensor(path, 'input_ids');
    const attentionMask = readInt32Tensor(path, 'attention_mask');
    const batch = tokenizer.encodeBatch(tokens.texts, { contextLength: tokens.context_length });
    expect(batch.shape).toEqual(inputIds.shape);
    expect(Array.from(batch.ids)).toEqual(inputIds.values);
    expect(Array.from(batch.attentionMask)).toEqual(attentionMask.values);
    expect(warnings).toHaveLength(1);
  });

  it('decodes its ids back to the normalised text', () => {
    expect(tokenizer.decode(tokenizer.encode('café 123 emoji 🙂 done'))).toBe('café 1 2 3 emoji 🙂 done');
    expect(tokenizer.decode(tokenizer.encode('A Small GREEN square'))).toBe('a small green square');
  });
});
