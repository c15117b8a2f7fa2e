import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  CLIPTokenizer,
  formatMergesText,
  formatTokenizerJson,
  formatVocabJson,
  loadCLIPTokenizer,
} from '../src/tokenizer/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const shared = resolve(repoRoot, '../shared');
const mergesPath = resolve(shared, 'vocab/bpe_simple_vocab_16e6.txt');
const { texts, ids } = JSON.parse(
  readFileSync(resolve(shared, 'fixtures/clip-tokenizer/clip_tokenizer_openai.json'), 'utf8'),
) as { texts: string[]; ids: number[][] };
const tinyDir = resolve(shared, 'fixtures/clip-tiny');

const openai = CLIPTokenizer.fromOpenAIMerges(readFileSync(mergesPath, 'utf8'));
const quiet = { logger: { warn: () => {} } };

function expectFixtureIds(tokenizer: CLIPTokenizer): void {
  texts.forEach((text, i) => {
    expect(tokenizer.encode(text), JSON.stringify(text)).toEqual(ids[i]);
  });
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'clip-tokenizer-'));
}

describe('loading from strings and bytes', () => {
  it('reads the gzipped merges file as bytes', () => {
    const gzipped = gzipSync(readFileSync(mergesPath));
    const tokenizer = CLIPTokenizer.fromOpenAIMerges(new Uint8Array(gzipped));
    expect(tokenizer.vocabSize).toBe(49408);
    expectFixtureIds(tokenizer);
  });

  it('reads a tokenizer.json built from the same vocabulary, with merges as pairs', () => {
    const json = formatTokenizerJson(openai);
    expect(JSON.parse(json).model.merges[0]).toEqual(['i', 'n']);
    expectFixtureIds(CLIPTokenizer.fromTokenizerJson(json));
  });

  it('reads a tokenizer.json with merges as "a b" strings, as older files hold them', () => {
    const parsed = JSON.parse(formatTokenizerJson(openai));
    parsed.model.merges = parsed.model.merges.map((pair: string[]) => pair.join(' '));
    expectFixtureIds(CLIPTokenizer.fromTokenizerJson(parsed));
  });

  it('takes the special tokens from added_tokens when model.vocab lacks them', () => {
    const parsed = JSON.parse(formatTokenizerJson(openai));
    delete parsed.model.vocab['<|startoftext|>'];
    delete parsed.model.vocab['<|endoftext|>'];
    const tokenizer = CLIPTokenizer.fromTokenizerJson(parsed);
    expect([tokenizer.startId, tokenizer.endId]).toEqual([49406, 49407]);
  });

  it('reads vocab.json and merges.txt written from the same vocabulary', () => {
    expectFixtureIds(
      CLIPTokenizer.fromVocabAndMerges(formatVocabJson(openai.vocab), formatMergesText(openai.merges)),
    );
  });

  it('writes vocab.json in id order, digits included', () => {
    const json = formatVocabJson(
      new Map([
        ['a', 1],
        ['0', 2],
        ['b', 0],
      ]),
    );
    expect(json).toBe('{"b":0,"a":1,"0":2}');
  });

  it('rejects a tokenizer.json that is not CLIP BPE, naming the problem', () => {
    const parsed = JSON.parse(formatTokenizerJson(openai));
    expect(() =>
      CLIPTokenizer.fromTokenizerJson({ ...parsed, model: { ...parsed.model, type: 'WordPiece' } }),
    ).toThrow(/WordPiece model/);
    expect(() =>
      CLIPTokenizer.fromTokenizerJson({ ...parsed, model: { ...parsed.model, end_of_word_suffix: null } }),
    ).toThrow(/end_of_word_suffix/);
    expect(() => CLIPTokenizer.fromTokenizerJson({ version: '1.0' })).toThrow(/no "model"/);
  });

  it('rejects merges whose tokens are missing from the vocabulary', () => {
    const vocab = JSON.stringify({ a: 0, b: 1, '<|startoftext|>': 2, '<|endoftext|>': 3 });
    expect(() => CLIPTokenizer.fromVocabAndMerges(vocab, '#version: 0.2\na b\n')).toThrow(/needs "ab"/);
    expect(() => CLIPTokenizer.fromVocabAndMerges(vocab, '#version: 0.2\na b c\n')).toThrow(/line 2/);
    expect(() => CLIPTokenizer.fromVocabAndMerges(JSON.stringify({ a: 0 }), '')).toThrow(/<\|startoftext\|>/);
  });
});

describe('loadCLIPTokenizer', () => {
  it('loads the OpenAI merges file by path, plain and gzipped', async () => {
    expectFixtureIds(await loadCLIPTokenizer(mergesPath));
    const dir = tempDir();
    writeFileSync(join(dir, 'bpe_simple_vocab_16e6.txt.gz'), gzipSync(readFileSync(mergesPath)));
    expectFixtureIds(await loadCLIPTokenizer(join(dir, 'bpe_simple_vocab_16e6.txt.gz')));
    expectFixtureIds(await loadCLIPTokenizer(dir));
  });

  it('loads vocab.json + merges.txt from their directory or from either file', async () => {
    const { texts: tinyTexts, ids_unpadded } = JSON.parse(
      readFileSync(join(tinyDir, 'tokens.json'), 'utf8'),
    ) as {
      texts: string[];
      ids_unpadded: number[][];
    };
    for (const path of [tinyDir, join(tinyDir, 'vocab.json'), join(tinyDir, 'merges.txt')]) {
      const tokenizer = await loadCLIPTokenizer(path, quiet);
      tinyTexts.forEach((text, i) => {
        expect(tokenizer.encode(text)).toEqual(ids_unpadded[i]);
      });
    }
  });

  it('loads tokenizer.json from its directory or its path, before other files there', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tokenizer.json'), formatTokenizerJson(openai));
    writeFileSync(join(dir, 'bpe_simple_vocab_16e6.txt'), 'not a merges file');
    expectFixtureIds(await loadCLIPTokenizer(dir));
    expectFixtureIds(await loadCLIPTokenizer(join(dir, 'tokenizer.json')));
  });

  it('names the formats it looked for when a directory holds none', async () => {
    await expect(loadCLIPTokenizer(tempDir())).rejects.toThrow(/tokenizer\.json, vocab\.json \+ merges\.txt/);
  });
});
