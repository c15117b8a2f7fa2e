import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from './cli-error.js';

/**
 * Checks, before any work, that `out` can be written: a `.png` name in a folder that exists, and
 * not itself a folder. Nothing is written until the images exist, and then atomically.
 */
export async function checkOutputPath(out: string): Promise<void> {
  if (!out.toLowerCase().endsWith('.png')) throw new UsageError(`--out must name a .png file, got '${out}'`);
  const folder = dirname(resolve(out));
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory()) throw new UsageError(`the output folder ${folder} does not exist`);
  const existing = await stat(out).catch(() => undefined);
  if (existing?.isDirectory()) throw new UsageError(`--out ${out} is a folder; name a .png file`);
}

/** `out.png` -> `out-0.png`, `out-1.png`, ...: one file per image next to the grid. */
export function imagePaths(out: string, count: number): string[] {
  const stem = out.slice(0, -'.png'.length);
  return Array.from({ length: count }, (_, i) => `${stem}-${i}.png`);
}
