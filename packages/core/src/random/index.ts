export type { Rng } from './rng.js';
