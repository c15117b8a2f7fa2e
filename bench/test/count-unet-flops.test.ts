import { UNet, type UNetConfigInput, unetPreset } from '@dalle2js/unet';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { countUNetFlops } from '../src/count-unet-flops.js';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * FLOPs of the conv and matMul kernels (plain or with a bias fused in) that a forward pass really runs, read off the
 * shapes that tf.profile records: an independent check on the count from the config.
 */
async function profiledFlops(
  config: UNetConfigInput,
  batch: number,
  side: number,
  textTokens = 0,
): Promise<number> {
  const unet = new UNet(config);
  const { imageEmbedDim, textEmbedDim } = unet.config;
  const x = tf.zeros([batch, side, side, 3]);
  const imageEmbed = tf.zeros([batch, imageEmbedDim]);
  const textEncodings = textTokens > 0 ? tf.zeros([batch, textTokens, textEmbedDim as number]) : undefined;
  try {
    const profile = await tf.profile(() => {
      tf.dispose(unet.apply(x, 10, { imageEmbed, textEncodings }));
    });
    let flops = 0;
    for (const kernel of profile.kernels) {
      const [a, b] = kernel.inputShapes as [number[], number[]];
      const out = kernel.outputShapes[0] as number[];
      if (kernel.name === 'Conv2D' || kernel.name === 'FusedConv2D') {
        const [kh, kw, inC] = b as [number, number, number];
        flops += 2 * size(out) * kh * kw * inC;
      } else if (kernel.name === 'BatchMatMul' || kernel.name === '_FusedMatMul') {
        // a's last two axes hold M and K in some order, and the output ends in M.
        const m = out[out.length - 2] as number;
        const k = size(a.slice(-2)) / m;
        flops += 2 * size(out) * k;
      } else if (!/^fused\w+__op$/.test(kernel.name)) {
        // (tf.fused's ops record a scope around their kernel, counted above.)
        expect(kernel.name, 'a kernel the count does not know').not.toMatch(/Conv|MatMul|Einsum/);
      }
    }
    return flops;
  } finally {
    unet.dispose();
    tf.dispose([x, imageEmbed, textEncodings].filter((t) => t !== undefined));
  }
}

const TINY: UNetConfigInput = {
  dim: 8,
  dimMults: [1, 2, 3],
  numResnetBlocks: 2,
  imageEmbedDim: 6,
  numImageTokens: 2,
  contextDim: 12,
  selfAttention: [false, true, true],
  crossAttention: [true, false, true],
  midAttention: true,
  attentionHeadDim: 8,
  normGroups: 4,
};

describe('countUNetFlops', () => {
  test.each([
    ['a tiny 3-level config', TINY, 2, 8, 0],
    [
      'text tokens, learned variance, shortcut convs',
      { ...TINY, textEmbedDim: 5, learnedVariance: true },
      1,
      8,
      3,
    ],
    ['the small preset at 16 px', unetPreset('small'), 1, 16, 0],
  ] as [string, UNetConfigInput, number, number, number][])(
    '%s: the count equals the FLOPs of the conv and matMul kernels a forward pass runs',
    async (_, config, batch, side, textTokens) => {
      const counted = countUNetFlops(config, batch, side, { textTokens });
      expect(counted.forward).toBe(await profiledFlops(config, batch, side, textTokens));
    },
  );

  test('parts add up; backward is 2x forward; the count scales with the batch', () => {
    const one = countUNetFlops(unetPreset('seed'), 1, 64);
    const four = countUNetFlops(unetPreset('seed'), 4, 64);
    expect(one.conv + one.linear + one.attentionProjections + one.attentionScores).toBe(one.forward);
    expect(one.backward).toBe(2 * one.forward);
    expect(one.trainStep).toBe(3 * one.forward);
    expect(four.forward).toBe(4 * one.forward);
  });

  test('the seed preset at 64 px costs about 80 GFLOP forward per image, mostly convs', () => {
    // A 3x3 conv from 128 to 128 channels at 64 px alone is 2 * 64^2 * 9 * 128^2 = 1.21 GFLOP.
    const { forward, conv } = countUNetFlops(unetPreset('seed'), 1, 64);
    expect(conv / forward).toBeGreaterThan(0.8);
    expect(forward).toBeGreaterThan(20e9);
    expect(forward).toBeLessThan(200e9);
  });

  test('rejects sizes the U-Net cannot take', () => {
    expect(() => countUNetFlops(unetPreset('seed'), 1, 60)).toThrow(/multiple of 8/);
    expect(() => countUNetFlops(unetPreset('seed'), 0, 64)).toThrow(/batch/);
  });
});
