import { CLIPTokenizer, type OpenAIMergesOptions } from './clip-tokenizer.js';

// Node only: `node:fs` and `node:path` are imported on first call, so bundles for the browser that never
// call these helpers do not need them.

async function exists(path: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  return stat(path).then(
    () => true,
    () => false,
  );
}

function isOpenAIMergesName(name: string): boolean {
  return /\.txt(\.gz)?$/.test(name) && name !== 'merges.txt';
}

/**
 * Loads CLIP's tokenizer from a file or a directory, in whichever format it finds: Hugging Face's
 * `tokenizer.json`, `vocab.json` + `merges.txt`, or OpenAI's merges file (`bpe_simple_vocab_16e6.txt`,
 * gzipped or not). A directory is searched in that order.
 */
export async function loadCLIPTokenizer(
  pathOrDir: string,
  options: OpenAIMergesOptions = {},
): Promise<CLIPTokenizer> {
  const { readFile, readdir, stat } = await import('node:fs/promises');
  const { basename, dirname, join } = await import('node:path');
  const fromVocabAndMerges = async (dir: string) =>
    CLIPTokenizer.fromVocabAndMerges(
      await readFile(join(dir, 'vocab.json')),
      await readFile(join(dir, 'merges.txt')),
      options,
    );

  if ((await stat(pathOrDir)).isDirectory()) {
    const dir = pathOrDir;
    if (await exists(join(dir, 'tokenizer.json'))) {
      return CLIPTokenizer.fromTokenizerJson(await readFile(join(dir, 'tokenizer.json')), options);
    }
    if ((await exists(join(dir, 'vocab.json'))) && (await exists(join(dir, 'merges.txt')))) {
      return fromVocabAndMerges(dir);
    }
    const mergesFile = (await readdir(dir)).filter(isOpenAIMergesName).sort()[0];
    if (mergesFile) return CLIPTokenizer.fromOpenAIMerges(await readFile(join(dir, mergesFile)), options);
    throw new Error(
      `No tokenizer in ${dir}: expected tokenizer.json, vocab.json + merges.txt, or an OpenAI merges file (*.txt, *.txt.gz)`,
    );
  }

  const name = basename(pathOrDir);
  const dir = dirname(pathOrDir);
  if (name === 'merges.txt' || name === 'vocab.json') {
    if ((await exists(join(dir, 'vocab.json'))) && (await exists(join(dir, 'merges.txt')))) {
      return fromVocabAndMerges(dir);
    }
    if (name === 'vocab.json') throw new Error(`${pathOrDir} needs a merges.txt beside it`);
  }
  if (name.endsWith('.json')) return CLIPTokenizer.fromTokenizerJson(await readFile(pathOrDir), options);
  return CLIPTokenizer.fromOpenAIMerges(await readFile(pathOrDir), options);
}
