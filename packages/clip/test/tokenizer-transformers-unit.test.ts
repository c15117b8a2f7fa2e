import { describe, expect, it } from 'vitest';
import { CLIPTokenizer } from '../src/tokenizer/index.js';

// transformers' own CLIPTokenizer unit test: a toy vocabulary with three merges.
const vocabTokens =
  'l o w e r s t i d n lo l</w> w</w> r</w> t</w> low</w> er</w> lowest</w> newer</w> wider <unk> <|startoftext|> <|endoftext|>'.split(
    ' ',
  );
const vocabJson = JSON.stringify(Object.fromEntries(vocabTokens.map((token, id) => [token, id])));
const mergesTxt = ['#version: 0.2', 'l o', 'lo w</w>', 'e r</w>', ''].join('\n');

describe("transformers' CLIPTokenizer unit case", () => {
  const tokenizer = CLIPTokenizer.fromVocabAndMerges(vocabJson, mergesTxt, { unknownToken: '<unk>' });

  it('splits "lower newer" into the same tokens', () => {
    expect(tokenizer.tokenize('lower newer')).toEqual(['lo', 'w', 'er</w>', 'n', 'e', 'w', 'er</w>']);
  });

  it('gives the same ids', () => {
    expect(tokenizer.encode('lower newer', { addSpecialTokens: false })).toEqual([10, 2, 16, 9, 3, 2, 16]);
    expect(tokenizer.encode('lower newer')).toEqual([21, 10, 2, 16, 9, 3, 2, 16, 22]);
  });

  it('maps symbols missing from the vocabulary to the unknown token', () => {
    expect(tokenizer.encode('lox', { addSpecialTokens: false })).toEqual([10, 20]);
  });
});
