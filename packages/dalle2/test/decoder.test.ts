import { TorchGenerator } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { Decoder, downsampleImages, resolveDecoderConfig } from '../src/index.js';
import { tinyDecoderConfig, tinyUpsamplerConfig } from './tiny-pipeline.js';

describe('Decoder', () => {
  it('validates its config once, naming the field and the valid values', () => {
    expect(() => resolveDecoderConfig({ ...tinyDecoderConfig(), imageSize: 9 })).toThrow(
      /field "imageSize" must be a positive multiple of 2/,
    );
    expect(() => resolveDecoderConfig({ ...tinyDecoderConfig(), betaSchedule: 'sigmoid' as never })).toThrow(
      /field "betaSchedule" is "sigmoid"; valid: cosine, linear/,
    );
    expect(() => resolveDecoderConfig({ ...tinyDecoderConfig(), prediction: 'noise' as never })).toThrow(
      /valid: epsilon, sample, v_prediction/,
    );
    expect(() => resolveDecoderConfig({ ...tinyUpsamplerConfig(), lowresImageSize: 5 })).toThrow(
      /field "lowresImageSize" must divide imageSize \(16\)/,
    );
    expect(() => resolveDecoderConfig({ ...tinyDecoderConfig(), lowresImageSize: 4 })).toThrow(
      /must be null unless unet.lowresCond/,
    );
    expect(() => resolveDecoderConfig({ ...tinyDecoderConfig(), steps: 3 } as never)).toThrow(
      /unknown config field "steps"; valid: unet, imageSize/,
    );
    expect(() => resolveDecoderConfig({ unet: { dim: -1 } })).toThrow(/field "unet": UNet config: dim/);
    const grid = tinyDecoderConfig();
    expect(() => resolveDecoderConfig({ ...grid, unet: { ...grid.unet, imageEmbedGrid: 2 } })).toThrow(
      'Decoder: field "imageSize" must be 4 for unet.imageEmbedGrid 2 (grid x 2^(levels - 1)), got 8',
    );
    expect(
      resolveDecoderConfig({ ...grid, unet: { ...grid.unet, imageEmbedGrid: 4 } }).unet.imageEmbedGrid,
    ).toBe(4);
  });

  it('computes a training loss that gradients can reduce, leaking nothing', async () => {
    const decoder = new Decoder(tinyDecoderConfig(), { rng: new TorchGenerator(0) });
    const images = tf.tidy(() => tf.tanh(tf.randomNormal([4, 8, 8, 3], 0, 1, 'float32', 1)));
    const imageEmbed = tf.tidy(() => tf.randomNormal([4, 8], 0, 1, 'float32', 2));
    const before = tf.memory().numTensors;
    const lossAt = async (seed: number) => {
      const loss = decoder.loss(images, { imageEmbed }, { generator: new TorchGenerator(seed) });
      const [value] = await loss.data();
      loss.dispose();
      return value!;
    };
    const first = await lossAt(5);
    expect(await lossAt(5)).toBe(first);
    expect(first).toBeGreaterThan(0);
    const optimizer = tf.train.adam(1e-2);
    for (let i = 0; i < 8; i++) {
      const cost = optimizer.minimize(
        () => decoder.loss(images, { imageEmbed }, { generator: new TorchGenerator(5) }),
        true,
        decoder.unet.trainableVariables(),
      );
      cost?.dispose();
    }
    expect(await lossAt(5)).toBeLessThan(first);
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => decoder.loss(tf.zeros([1, 4, 4, 3]), { imageEmbed })).toThrow(
      /expected images of shape \[B, 8, 8, 3\]/,
    );
    tf.dispose([images, imageEmbed]);
    decoder.dispose();
  });

  it('draws its training timesteps as floor(T * u^timestepPower)', async () => {
    const decoder = new Decoder(tinyDecoderConfig(), { rng: new TorchGenerator(0) });
    const T = decoder.config.numTrainTimesteps;
    const images = tf.zeros([64, 8, 8, 3]);
    const imageEmbed = tf.zeros([64, 8]);
    const apply = decoder.unet.apply.bind(decoder.unet);
    const drawn: number[][] = [];
    const spy = vi.spyOn(decoder.unet, 'apply').mockImplementation((x, t, ...rest) => {
      drawn.push(Array.from((t as tf.Tensor).dataSync()));
      return apply(x, t, ...rest);
    });
    for (const timestepPower of [1, 0.5]) {
      decoder.loss(images, { imageEmbed }, { generator: new TorchGenerator(3), timestepPower }).dispose();
    }
    spy.mockRestore();
    const uniforms = new TorchGenerator(3).uniform(64);
    expect(drawn[0]).toEqual(Array.from(uniforms, (u) => Math.floor(u * T)));
    expect(drawn[1]).toEqual(Array.from(uniforms, (u) => Math.floor(u ** 0.5 * T)));
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean(drawn[1]!)).toBeGreaterThan(mean(drawn[0]!));
    expect(() => decoder.loss(images, { imageEmbed }, { timestepPower: 0 })).toThrow(
      /timestepPower must be a positive number, got 0/,
    );
    tf.dispose([images, imageEmbed]);
    decoder.dispose();
  });

  it('samples clipped images from embeddings, deterministic per generator, guided or not', async () => {
    const decoder = new Decoder(tinyDecoderConfig(), { rng: new TorchGenerator(1) });
    // The U-Net starts with zeroed output layers (guided-diffusion's zero_module), so the embedding
    // cannot matter yet: perturb every weight so that it, and guidance, do.
    const rng = new TorchGenerator(4);
    for (const { variable } of decoder.unet.namedParameters().values()) {
      tf.tidy(() => variable.assign(tf.add(variable, tf.mul(rng.randnTensor(variable.shape), 0.1))));
    }
    const embeds = tf.tidy(() => tf.randomNormal([2, 8], 0, 1, 'float32', 3));
    const before = tf.memory().numTensors;
    const draw = async (guidanceScale: number, sampler: 'ddpm' | 'ddim') => {
      const x = await decoder.sample(embeds, {
        steps: 5,
        sampler,
        guidanceScale,
        generator: new TorchGenerator(9),
      });
      const values = await x.data();
      expect(x.shape).toEqual([2, 8, 8, 3]);
      x.dispose();
      return values;
    };
    const plain = await draw(1, 'ddim');
    expect(Math.max(...plain)).toBeLessThanOrEqual(1);
    expect(Math.min(...plain)).toBeGreaterThanOrEqual(-1);
    expect(await draw(1, 'ddim')).toEqual(plain);
    expect(await draw(3, 'ddim')).not.toEqual(plain);
    expect(await draw(1, 'ddpm')).not.toEqual(plain);
    expect(tf.memory().numTensors).toBe(before);
    await expect(decoder.sample(tf.zeros([2, 6]))).rejects.toThrow(
      /expected image embeddings of shape \[N, 8\]/,
    );
    expect(() => decoder.scheduler('ddim', 3)).toThrow(/DDIM steps must divide numTrainTimesteps \(10\)/);
    expect(() => decoder.scheduler('heun' as never, 3)).toThrow(/unknown sampler "heun"; valid: ddpm, ddim/);
    expect(decoder.defaultSteps('ddim')).toBe(10);
    embeds.dispose();
    decoder.dispose();
  });

  it('trains an upsampler on its images pooled to the low resolution', async () => {
    const upsampler = new Decoder(tinyUpsamplerConfig(), { rng: new TorchGenerator(2) });
    const images = tf.tidy(() => tf.tanh(tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 4)));
    const imageEmbed = tf.zeros([2, 8]);
    const pooled = downsampleImages(images, 2);
    const a = upsampler.loss(images, { imageEmbed }, { generator: new TorchGenerator(1) });
    const b = upsampler.loss(
      images,
      { imageEmbed, lowresImage: pooled },
      { generator: new TorchGenerator(1) },
    );
    expect(await a.data()).toEqual(await b.data());
    expect(pooled.shape).toEqual([2, 8, 8, 3]);
    tf.dispose([images, imageEmbed, pooled, a, b]);
    upsampler.dispose();
  });
});
