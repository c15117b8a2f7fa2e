export { defaultGenerator, manualSeed } from './default-generator.js';
export type { MT19937State } from './mt19937.js';
export { MT19937 } from './mt19937.js';
export type { Rng } from './rng.js';
export type { TorchGeneratorState } from './torch-generator.js';
export { TorchGenerator } from './torch-generator.js';
