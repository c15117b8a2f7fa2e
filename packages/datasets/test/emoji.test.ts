import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  EMOJI_IMAGES_PACKAGE,
  type EmojiEntry,
  emojiCatalog,
  emojiCodepoints,
  flattenAlpha,
  loadEmojiDataset,
  type UnicodeEmojiData,
  withSkinTone,
} from '../src/index.js';

const require = createRequire(import.meta.url);
const imagesInstalled = (() => {
  try {
    require.resolve(`${EMOJI_IMAGES_PACKAGE}/package.json`);
    return true;
  } catch {
    return false;
  }
})();

describe('emoji captions', () => {
  let catalog: EmojiEntry[];
  let data: Record<string, UnicodeEmojiData>;

  beforeAll(async () => {
    const read = async (id: string) => JSON.parse(await readFile(require.resolve(id), 'utf8'));
    data = await read('unicode-emoji-json/data-by-emoji.json');
    catalog = emojiCatalog(data, await read('emojilib/dist/emoji-en-US.json'));
  });

  test('every emoji but the flags, with five skin-tone variants where supported', () => {
    const base = Object.values(data).filter((d) => d.group !== 'Flags');
    const toned = base.filter((d) => d.skin_tone_support).length;
    expect(catalog).toHaveLength(base.length + 5 * toned);
    expect(catalog.length).toBeGreaterThan(3000);
    expect(catalog.some((e) => e.group === 'Flags')).toBe(false);
    expect(emojiCatalog(data, {}, { skinTones: false })).toHaveLength(base.length);
  });

  test('captions name the emoji, its skin tone in words and emojilib keywords', () => {
    const wave = catalog.find((e) => e.emoji === '👋')!;
    expect(wave.caption).toBe('waving hand');
    expect(wave.keywords).toContain('goodbye');
    expect(wave.captions[2]).toMatch(/^waving hand: .*goodbye/);
    const medium = catalog.find((e) => e.emoji === '👋🏽')!;
    expect(medium.caption).toBe('waving hand, medium skin tone');
    expect(medium.skinTone).toBe('medium skin tone');
    expect(medium.codepoints).toBe('1f44b-1f3fd');
    for (const e of catalog) expect(e.captions[0]).toBe(e.caption);
  });

  test('skin tones go on every person of a sequence and replace the variation selector', () => {
    expect(emojiCodepoints(withSkinTone('🏌️‍♂️', '1f3ff'))).toBe('1f3cc-1f3ff-200d-2642-fe0f');
    expect(emojiCodepoints(withSkinTone('🧑‍🤝‍🧑', '1f3fb'))).toBe('1f9d1-1f3fb-200d-1f91d-200d-1f9d1-1f3fb');
    expect(emojiCodepoints(withSkinTone('👨‍💻', '1f3fc'))).toBe('1f468-1f3fc-200d-1f4bb');
  });
});

describe('loadEmojiDataset', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emoji-images-'));
    // Named as emoji-datasource names them: with or without fe0f.
    for (const name of [
      '1f44b.png',
      '1f44b-1f3fd.png',
      '1f3cc-fe0f-200d-2642-fe0f.png',
      '1f1eb-1f1f7.png',
      'README.md',
    ]) {
      await writeFile(join(dir, name), 'x');
    }
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('pairs catalogue entries with the images in the folder, matching with or without fe0f', async () => {
    const { examples, missing } = await loadEmojiDataset({ imagesDir: dir });
    expect(examples.map((e) => e.caption).sort()).toEqual([
      'man golfing',
      'waving hand',
      'waving hand, medium skin tone',
    ]);
    expect(examples.find((e) => e.name === 'man golfing')!.file).toBe(
      join(dir, '1f3cc-fe0f-200d-2642-fe0f.png'),
    );
    expect(missing.length).toBeGreaterThan(3000);
  });

  test('a missing images folder is named', async () => {
    await expect(loadEmojiDataset({ imagesDir: join(dir, 'nope') })).rejects.toThrow(
      /cannot read the emoji images folder .*nope/,
    );
  });

  // emoji-datasource-google is an optional peer (about 74 MB): what this checks depends on whether it is installed.
  test(`the installed images are found, or the message says to install ${EMOJI_IMAGES_PACKAGE}`, async () => {
    if (imagesInstalled) {
      const { examples, missing } = await loadEmojiDataset();
      expect(examples.length).toBeGreaterThan(3000);
      expect(missing.length).toBeLessThan(examples.length / 10);
    } else {
      await expect(loadEmojiDataset()).rejects.toThrow(
        /needs the images of emoji-datasource-google .* pnpm add emoji-datasource-google/,
      );
    }
  });
});

describe('flattenAlpha', () => {
  test('blends RGBA over the background and repeats grey', () => {
    const rgba = {
      width: 2,
      height: 1,
      channels: 4 as const,
      data: Uint8Array.from([255, 0, 0, 255, 0, 0, 255, 0]),
    };
    expect([...flattenAlpha(rgba).data]).toEqual([255, 0, 0, 255, 255, 255]);
    expect([...flattenAlpha(rgba, [0, 0, 0]).data]).toEqual([255, 0, 0, 0, 0, 0]);
    const greyAlpha = { width: 1, height: 1, channels: 2 as const, data: Uint8Array.from([100, 128]) };
    expect([...flattenAlpha(greyAlpha, [0, 0, 0]).data]).toEqual([50, 50, 50]);
    expect(() => flattenAlpha({ ...rgba, data: new Uint8Array(3) })).toThrow(/expected 2x1 pixels/);
  });
});
