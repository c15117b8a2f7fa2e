// @ts-check
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPipelineConfig } from '@dalle2js/dalle2';

/** Where a trained model is expected: models/shapes at the root of the dalle2js repository. */
export const DEFAULT_MODEL = fileURLToPath(new URL('../../../models/shapes', import.meta.url));

/**
 * models/shapes when it holds a whole pipeline; else null and why (a folder being trained lacks
 * the components not trained yet).
 * @returns {Promise<{ dir: string | null, why: string }>}
 */
export async function defaultModel() {
  if (!existsSync(join(DEFAULT_MODEL, 'config.json'))) return { dir: null, why: `no ${DEFAULT_MODEL}` };
  const config = await readPipelineConfig(DEFAULT_MODEL);
  const missing = [!config.clip && 'clip', !config.prior && 'prior', !config.decoders?.length && 'decoder'];
  const names = missing.filter((name) => typeof name === 'string');
  if (names.length === 0) return { dir: DEFAULT_MODEL, why: '' };
  return { dir: null, why: `${DEFAULT_MODEL} has no ${names.join(', ')} yet` };
}
