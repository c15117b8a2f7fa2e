import { selectBackend } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { countUNetParameters, resolveUNetConfig, UNet, unetPreset, unetPresets } from '../src/index.js';
import { TINY, TINY_FULL } from './tiny-config.js';

describe('resolveUNetConfig', () => {
  test('fills the documented defaults', () => {
    expect(resolveUNetConfig()).toEqual({
      dim: 128,
      dimMults: [1, 2, 4, 8],
      channels: 3,
      numResnetBlocks: 2,
      imageEmbedDim: 512,
      numImageTokens: 4,
      contextDim: 128,
      textEmbedDim: null,
      maxTextLen: 77,
      selfAttention: [false, false, true, true],
      crossAttention: [false, false, true, true],
      midAttention: true,
      attentionHeadDim: 64,
      normGroups: 32,
      normEps: 1e-5,
      learnedVariance: false,
      lowresCond: false,
      imageEmbedGrid: null,
    });
  });

  test('contextDim follows dim and the attention flags follow the number of levels', () => {
    const config = resolveUNetConfig({ dim: 32, dimMults: [1, 2, 2], normGroups: 8, attentionHeadDim: 32 });
    expect(config.contextDim).toBe(32);
    expect(config.selfAttention).toEqual([false, true, true]);
  });

  test.each([
    [{ dim: 0 }, /dim must be a positive integer, got 0/],
    [{ dim: 12.5 }, /dim must be a positive integer/],
    [{ numResnetBlocks: -1 }, /numResnetBlocks must be a positive integer/],
    [{ dimMults: [] }, /dimMults must be a non-empty array/],
    [{ dimMults: [1, 0] }, /dimMults must hold positive integers/],
    [{ selfAttention: [true] }, /selfAttention must hold one true\/false per level \(4/],
    [
      { crossAttention: [false, false, 1, true] as unknown as boolean[] },
      /crossAttention must hold one true\/false/,
    ],
    [{ normGroups: 48 }, /normGroups 48 must divide every level's channels \[128, 256, 512, 1024\]/],
    [{ attentionHeadDim: 96 }, /attentionHeadDim 96 must divide/],
    [{ normEps: 0 }, /normEps must be a positive number/],
    [{ learnedVariance: 'yes' as unknown as boolean }, /learnedVariance must be true or false/],
    [{ textEmbedDim: 0 }, /textEmbedDim must be a positive integer or null/],
    [
      { textEmbedDim: 16, crossAttention: [false, false, false, false], midAttention: false },
      /textEmbedDim is set but nothing attends to the context/,
    ],
    [{ dims: 64 } as never, /unknown key "dims"; valid keys: dim, dimMults/],
  ])('rejects %j', (input, message) => {
    expect(() => resolveUNetConfig(input)).toThrow(message);
    expect(() => new UNet(input)).toThrow(message);
  });
});

describe('presets', () => {
  test('an unknown name lists the valid ones', () => {
    expect(() => unetPreset('large')).toThrow('Unknown UNet preset "large"; valid: seed, small');
  });

  test('overrides apply and the preset itself is not changed', () => {
    const config = unetPreset('small', { imageEmbedDim: 64 });
    expect(config.imageEmbedDim).toBe(64);
    expect(config.dim).toBe(32);
    (config.dimMults as number[]).push(4);
    expect(unetPresets.small.dimMults).toEqual([1, 2, 2]);
  });

  test('the seed preset has 276,428,931 parameters, by the formula and by the module', async () => {
    const formula = countUNetParameters(unetPreset('seed'));
    expect(formula).toBe(276_428_931);
    // Built on wasm, from constant draws: only the shapes matter here, and the cpu backend takes
    // several times longer to lay out 1.1 GB of weights.
    await selectBackend('wasm');
    const constant = {
      normal: (n: number) => new Float32Array(n),
      uniform: (n: number) => new Float32Array(n),
    };
    const unet = new UNet(unetPreset('seed'), { rng: constant });
    try {
      expect(unet.numParameters()).toBe(formula);
    } finally {
      unet.dispose();
      await tf.setBackend('cpu');
    }
  }, 120_000);

  test('the small preset has 1,324,611 parameters', () => {
    const unet = new UNet(unetPreset('small'));
    try {
      expect(unet.numParameters()).toBe(countUNetParameters(unetPreset('small')));
      expect(unet.numParameters()).toBe(1_324_611);
    } finally {
      unet.dispose();
    }
  });
});

describe('countUNetParameters', () => {
  test.each([
    ['tiny', TINY],
    ['tiny with text, learned variance and lowres conditioning', TINY_FULL],
    [
      'no attention at all',
      { ...TINY, selfAttention: [false, false], crossAttention: [false, false], midAttention: false },
    ],
    ['cross-attention only', { ...TINY, selfAttention: [false, false], crossAttention: [true, false] }],
    [
      'three levels, three blocks',
      {
        ...TINY,
        dimMults: [1, 3, 2],
        numResnetBlocks: 3,
        selfAttention: [true, false, false],
        crossAttention: [false, true, false],
        contextDim: 12,
      },
    ],
    ['one level', { ...TINY, dimMults: [2], selfAttention: [true], crossAttention: [true], textEmbedDim: 3 }],
  ])('matches the module: %s', (_, config) => {
    const unet = new UNet(config);
    try {
      expect(unet.numParameters()).toBe(countUNetParameters(config));
    } finally {
      unet.dispose();
    }
  });
});
