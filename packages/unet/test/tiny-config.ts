import type { UNetConfigInput } from '../src/index.js';

/** Two levels of 8 and 16 channels: every block kind, small enough for finite differences on the cpu. */
export const TINY: UNetConfigInput = {
  dim: 8,
  dimMults: [1, 2],
  numResnetBlocks: 1,
  imageEmbedDim: 6,
  numImageTokens: 2,
  contextDim: 8,
  selfAttention: [false, true],
  crossAttention: [false, true],
  midAttention: true,
  attentionHeadDim: 8,
  normGroups: 4,
};

/** TINY with text conditioning, learned variance and low-resolution conditioning switched on. */
export const TINY_FULL: UNetConfigInput = {
  ...TINY,
  textEmbedDim: 5,
  maxTextLen: 6,
  learnedVariance: true,
  lowresCond: true,
};
