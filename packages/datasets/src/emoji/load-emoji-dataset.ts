import {
  type EmojiCatalogOptions,
  type EmojiEntry,
  emojiCatalog,
  type UnicodeEmojiData,
} from './emoji-catalog.js';

/** The Noto emoji images: an optional peer, since it is large (about 74 MB). */
export const EMOJI_IMAGES_PACKAGE = 'emoji-datasource-google';
const IMAGES_SUBDIR = 'img/google/64';

export interface EmojiExample extends EmojiEntry {
  /** Absolute path of the 64x64 RGBA PNG. */
  file: string;
}

export interface LoadEmojiOptions extends EmojiCatalogOptions {
  /** Folder of the PNGs named by code points ('1f44b-1f3fd.png'); default: the installed emoji-datasource-google. */
  imagesDir?: string;
}

export interface EmojiDataset {
  examples: EmojiExample[];
  /** Catalogue entries that have no image in the folder (left out of `examples`). */
  missing: EmojiEntry[];
}

/**
 * The emoji data set: about 3,300 (caption, image) pairs, flags left out, skin tones in words.
 * Names come from `unicode-emoji-json`, keywords from `emojilib`, and the 64x64 Noto Emoji images
 * (Apache-2.0) from `emoji-datasource-google`, which must be installed separately. Node only.
 */
export async function loadEmojiDataset(options: LoadEmojiOptions = {}): Promise<EmojiDataset> {
  const { readdir, readFile } = await import('node:fs/promises');
  const { createRequire } = await import('node:module');
  const { dirname, join } = await import('node:path');
  const require = createRequire(import.meta.url);
  const readJson = async (specifier: string) =>
    JSON.parse(await readFile(require.resolve(specifier), 'utf8'));
  const data = (await readJson('unicode-emoji-json/data-by-emoji.json')) as Record<string, UnicodeEmojiData>;
  const keywords = (await readJson('emojilib/dist/emoji-en-US.json')) as Record<string, string[]>;

  let imagesDir = options.imagesDir;
  if (imagesDir === undefined) {
    let packageJson: string;
    try {
      packageJson = require.resolve(`${EMOJI_IMAGES_PACKAGE}/package.json`);
    } catch {
      throw new Error(
        `The emoji data set needs the images of ${EMOJI_IMAGES_PACKAGE} (about 74 MB; Noto Emoji, Apache-2.0), which is not installed: pnpm add ${EMOJI_IMAGES_PACKAGE}`,
      );
    }
    imagesDir = join(dirname(packageJson), IMAGES_SUBDIR);
  }
  let files: string[];
  try {
    files = await readdir(imagesDir);
  } catch (error) {
    throw new Error(
      `loadEmojiDataset: cannot read the emoji images folder ${imagesDir}: ${(error as Error).message}`,
    );
  }
  // Image names keep or drop the variation selector fe0f unpredictably, so match without it.
  const byKey = new Map<string, string>();
  for (const file of files) {
    if (file.endsWith('.png')) byKey.set(withoutSelector(file.slice(0, -'.png'.length)), file);
  }
  const examples: EmojiExample[] = [];
  const missing: EmojiEntry[] = [];
  for (const entry of emojiCatalog(data, keywords, options)) {
    const file = byKey.get(withoutSelector(entry.codepoints));
    if (file === undefined) missing.push(entry);
    else examples.push({ ...entry, file: join(imagesDir, file) });
  }
  return { examples, missing };
}

function withoutSelector(codepoints: string): string {
  return codepoints
    .split('-')
    .filter((c) => c !== 'fe0f')
    .join('-');
}
