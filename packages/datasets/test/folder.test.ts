import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadImageFolder } from '../src/index.js';

describe('loadImageFolder', () => {
  let root: string;
  const folder = async (name: string, files: Record<string, string>) => {
    const dir = join(root, name);
    await mkdir(dir);
    for (const [file, contents] of Object.entries(files)) await writeFile(join(dir, file), contents);
    return dir;
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'image-folder-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('reads captions.jsonl', async () => {
    const dir = await folder('jsonl', {
      'b.png': 'x',
      'a.png': 'x',
      'captions.jsonl':
        '{"file": "b.png", "caption": " a blue cat "}\n\n{"file": "a.png", "caption": "a dog"}\n',
    });
    expect(await loadImageFolder(dir)).toEqual([
      { file: join(dir, 'a.png'), caption: 'a dog' },
      { file: join(dir, 'b.png'), caption: 'a blue cat' },
    ]);
  });

  test('reads a .txt beside each image', async () => {
    const dir = await folder('txt', {
      'cat.png': 'x',
      'cat.txt': 'a cat\n',
      'dog.PNG': 'x',
      'dog.txt': 'a dog',
    });
    expect(await loadImageFolder(dir)).toEqual([
      { file: join(dir, 'cat.png'), caption: 'a cat' },
      { file: join(dir, 'dog.PNG'), caption: 'a dog' },
    ]);
  });

  test('names what is wrong: missing captions, bad lines, missing files, other image types', async () => {
    const noCaption = await folder('no-caption', { 'cat.png': 'x', 'cat.txt': 'a cat', 'dog.png': 'x' });
    await expect(loadImageFolder(noCaption)).rejects.toThrow(/1 image\(s\) .* have no caption \(dog.png\)/);
    const badLine = await folder('bad-line', {
      'a.png': 'x',
      'captions.jsonl': '{"file": "a.png", "caption": "ok"}\nnot json\n',
    });
    await expect(loadImageFolder(badLine)).rejects.toThrow(/captions.jsonl line 2 is not JSON/);
    const missing = await folder('missing', { 'captions.jsonl': '{"file": "gone.png", "caption": "x"}' });
    await expect(loadImageFolder(missing)).rejects.toThrow(/line 1: gone.png does not exist/);
    const empty = await folder('empty-caption', {
      'a.png': 'x',
      'captions.jsonl': '{"file": "a.png", "caption": "  "}',
    });
    await expect(loadImageFolder(empty)).rejects.toThrow(/line 1: "caption" must be a non-empty string/);
    const jpeg = await folder('jpeg', { 'a.jpg': 'x', 'a.txt': 'a' });
    await expect(loadImageFolder(jpeg)).rejects.toThrow(/only PNG images are supported; convert a.jpg/);
    const none = await folder('none', { 'notes.md': 'x' });
    await expect(loadImageFolder(none)).rejects.toThrow(/holds no captioned PNG images/);
    await expect(loadImageFolder(join(root, 'nowhere'))).rejects.toThrow(/is not a readable folder/);
  });
});
