export { BPEModel, type BPEVocabulary, type Merge } from './bpe-model.js';
export { byteToUnicode, unicodeToByte } from './byte-to-unicode.js';
export {
  CLIPTokenizer,
  type CLIPTokenizerOptions,
  type EncodeBatchOptions,
  type EncodedBatch,
  type EncodeOptions,
  type OpenAIMergesOptions,
  type TokenizerLogger,
} from './clip-tokenizer.js';
export { loadCLIPTokenizer } from './load-clip-tokenizer.js';
export { formatMergesText, parseMergesText } from './merges-text.js';
export { buildOpenAIVocab, OPENAI_CLIP_MERGE_COUNT } from './openai-vocab.js';
export { CLIP_SPLIT_PATTERN, normalizeText, preTokenize } from './pre-tokenize.js';
export { BPE_FILE_FORMATS, type BPEFileFormat, formatBPEFiles, saveBPEFiles } from './save-bpe-files.js';
export { END_OF_TEXT, END_OF_WORD, START_OF_TEXT } from './special-tokens.js';
export { formatTokenizerJson, parseTokenizerJson } from './tokenizer-json.js';
export { type TrainBPEOptions, type TrainedBPE, trainBPE } from './train-bpe.js';
export { formatVocabJson, parseVocabJson } from './vocab-json.js';
