/** One image of a user's folder with its caption. */
export interface FolderExample {
  /** Absolute path of the PNG. */
  file: string;
  caption: string;
}

export const CAPTIONS_FILE = 'captions.jsonl';
const OTHER_IMAGE_TYPES = ['.jpg', '.jpeg', '.webp', '.gif', '.bmp', '.tif', '.tiff'];

/**
 * A folder of PNG images with captions: either `captions.jsonl` with one `{"file", "caption"}` per
 * line, or a `.txt` beside each image holding its caption (`cat.png` + `cat.txt`). Every image needs
 * a caption and every caption an image; errors name the file or line. Sorted by file name. Node only.
 */
export async function loadImageFolder(dir: string): Promise<FolderExample[]> {
  const { readdir, readFile, stat } = await import('node:fs/promises');
  const { extname, join, resolve } = await import('node:path');
  const root = resolve(dir);
  let names: string[];
  try {
    names = (await readdir(root)).sort();
  } catch {
    throw new Error(`loadImageFolder: ${dir} is not a readable folder`);
  }
  const isPng = (name: string) => extname(name).toLowerCase() === '.png';
  const others = names.filter((name) => OTHER_IMAGE_TYPES.includes(extname(name).toLowerCase()));
  if (others.length > 0) {
    throw new Error(
      `loadImageFolder: only PNG images are supported; convert ${others.slice(0, 3).join(', ')}${others.length > 3 ? ', ...' : ''} in ${dir}`,
    );
  }
  const examples: FolderExample[] = [];
  if (names.includes(CAPTIONS_FILE)) {
    const path = join(root, CAPTIONS_FILE);
    const lines = (await readFile(path, 'utf8')).split('\n');
    const seen = new Set<string>();
    for (const [i, line] of lines.entries()) {
      if (line.trim() === '') continue;
      const where = `${path} line ${i + 1}`;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        throw new Error(`${where} is not JSON; each line must be {"file": "a.png", "caption": "..."}`);
      }
      const { file, caption } = (row ?? {}) as { file?: unknown; caption?: unknown };
      if (typeof file !== 'string' || file === '') throw new Error(`${where}: "file" must be a file name`);
      if (typeof caption !== 'string' || caption.trim() === '')
        throw new Error(`${where}: "caption" must be a non-empty string`);
      if (!isPng(file)) throw new Error(`${where}: ${file} is not a .png; only PNG images are supported`);
      const full = resolve(root, file);
      const info = await stat(full).catch(() => undefined);
      if (!info?.isFile()) throw new Error(`${where}: ${file} does not exist in ${dir}`);
      if (seen.has(full)) throw new Error(`${where}: ${file} is listed twice`);
      seen.add(full);
      examples.push({ file: full, caption: caption.trim() });
    }
    examples.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  } else {
    const missing: string[] = [];
    for (const name of names.filter(isPng)) {
      const text = join(root, `${name.slice(0, -extname(name).length)}.txt`);
      const caption = (await readFile(text, 'utf8').catch(() => '')).trim();
      if (caption === '') missing.push(name);
      else examples.push({ file: join(root, name), caption });
    }
    if (missing.length > 0) {
      throw new Error(
        `loadImageFolder: ${missing.length} image(s) in ${dir} have no caption (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}): put a .txt beside each or list them in ${CAPTIONS_FILE}`,
      );
    }
  }
  if (examples.length === 0) throw new Error(`loadImageFolder: ${dir} holds no captioned PNG images`);
  return examples;
}
