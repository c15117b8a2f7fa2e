import { clipSuite } from './clip-suite.js';
import { generateSuite } from './generate-suite.js';
import { kernelsSuite } from './kernels-suite.js';
import { matMulSuite } from './matmul-suite.js';
import { priorSuite } from './prior-suite.js';
import type { Suite } from './suite.js';
import { unetSeedSuite, unetSmallSuite } from './unet-suite.js';

/** Every suite, in the order a run takes them; `matmul` always runs first, as the yardstick. */
export const SUITES: readonly Suite[] = [
  matMulSuite,
  unetSmallSuite,
  unetSeedSuite,
  clipSuite,
  priorSuite,
  generateSuite,
  kernelsSuite,
];

export const SUITE_NAMES = SUITES.map((suite) => suite.name);

/** Suites by name (`unet` = both U-Net suites), always with `matmul`; unknown names throw with the valid ones. */
export function selectSuites(names: readonly string[]): Suite[] {
  const wanted = new Set<string>(['matmul']);
  for (const name of names) {
    if (name === 'unet') {
      wanted.add(unetSmallSuite.name);
      wanted.add(unetSeedSuite.name);
    } else if (SUITE_NAMES.includes(name)) wanted.add(name);
    else throw new Error(`Unknown suite "${name}"; valid: ${[...SUITE_NAMES, 'unet'].join(', ')}`);
  }
  if (names.length === 0) return [...SUITES];
  return SUITES.filter((suite) => wanted.has(suite.name));
}
