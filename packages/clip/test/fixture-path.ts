import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (two levels above this package). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The shared CLIP fixture, read in place and never copied into the project. */
export const clipTinyDir = resolve(repoRoot, '../shared/fixtures/clip-tiny');
