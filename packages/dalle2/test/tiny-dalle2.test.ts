import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Dalle2, type GenerateOptions, tinyDalle2 } from '../src/index.js';

const FAST: GenerateOptions = { priorSteps: 2, decoderSteps: 2, seed: 3 };

describe('tinyDalle2', () => {
  let pipeline: Dalle2;

  beforeAll(() => {
    pipeline = tinyDalle2(0);
  });

  afterAll(() => {
    pipeline.dispose();
  });

  it('generates [N, 32, 32, 3] images in [-1, 1] through a 16 px decoder and a 32 px upsampler', async () => {
    expect(pipeline.imageSize).toBe(32);
    expect(pipeline.decoders.map((d) => d.config.imageSize)).toEqual([16, 32]);
    const out = await pipeline.generate(['a red circle', 'a blue square'], FAST);
    try {
      expect(out.images.shape).toEqual([2, 32, 32, 3]);
      expect(out.png).toHaveLength(2);
      const data = await out.images.data();
      expect(Math.min(...data)).toBeGreaterThanOrEqual(-1);
      expect(Math.max(...data)).toBeLessThanOrEqual(1);
    } finally {
      out.images.dispose();
    }
  });

  it('builds the same pipeline for the same seed and other weights for another seed', async () => {
    const same = tinyDalle2(0);
    const other = tinyDalle2(1);
    try {
      const images: Float32Array[] = [];
      for (const p of [pipeline, same]) {
        const out = await p.generate('a green cross', FAST);
        images.push((await out.images.data()) as Float32Array);
        out.images.dispose();
      }
      expect(images[1]).toEqual(images[0]);
      // Two decoder steps of random weights mostly saturate the pixels, so compare CLIP's weights
      // through a text embedding rather than the images.
      const embeddings: Float32Array[] = [];
      for (const p of [pipeline, same, other]) {
        const embedding = p.clip.encodeText(['a green cross']);
        embeddings.push((await embedding.data()) as Float32Array);
        embedding.dispose();
      }
      const [a, b, c] = embeddings;
      expect(b).toEqual(a);
      expect(c).not.toEqual(a);
    } finally {
      same.dispose();
      other.dispose();
    }
  });

  it('leaves no tensors behind across two generate calls', async () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      const out = await pipeline.generate('a red circle', FAST);
      out.images.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves no tensors behind once disposed', () => {
    const before = tf.memory().numTensors;
    tinyDalle2(5).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
