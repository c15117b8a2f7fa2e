import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './cli-error.js';

/** `--name value` as a positive integer, or a usage error that names the option. */
export function positiveInteger(name: string, value: string | undefined, fallback: number): number;
export function positiveInteger(name: string, value: string | undefined): number | undefined;
export function positiveInteger(
  name: string,
  value: string | undefined,
  fallback?: number,
): number | undefined {
  if (value === undefined) return fallback;
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${name} must be a positive integer, got '${value}'`);
  return n;
}

/** `--seed value`: a non-negative integer below 2^64. */
export function parseSeed(value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(value))
    throw new UsageError(`--seed must be a non-negative integer, got '${value}'`);
  const seed = BigInt(value.trim());
  if (seed >= 2n ** 64n) throw new UsageError(`--seed must be below 2^64, got '${value}'`);
  return seed;
}

/** `--name value` as a finite number >= 0. */
export function nonNegativeNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name} must be a number >= 0, got '${value}'`);
  return n;
}

/** `--name value` as one of `valid`. */
export function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  valid: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(valid as readonly string[]).includes(value)) {
    throw new UsageError(`${name} must be one of ${valid.join(', ')}, got '${value}'`);
  }
  return value as T;
}

/** The folder of the committed default model, `models/shapes` at the repository root. */
export const DEFAULT_MODEL = join('models', 'shapes');

/**
 * The model folder: `--model DIR`, else the DALLE2_MODEL environment variable, else the default
 * model (`models/shapes`) found above the CLI's own file, as in a clone of the repository.
 */
export function modelDir(value: string | undefined): string {
  const dir = value ?? process.env.DALLE2_MODEL;
  if (dir !== undefined && dir !== '') return dir;
  const found = findAboveCli(DEFAULT_MODEL);
  if (found !== undefined) return found;
  throw new UsageError(
    'no model: pass --model DIR (a folder written by `dalle2 train` or saveDalle2) or set DALLE2_MODEL',
  );
}

/**
 * `relative` (a folder with a config.json) in the nearest folder above the CLI's own file that has
 * it, as `models/shapes` in a clone of the repository; undefined when none has.
 */
export function findAboveCli(relative: string): string | undefined {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(folder, relative);
    if (existsSync(join(candidate, 'config.json'))) return candidate;
    const parent = dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
}
