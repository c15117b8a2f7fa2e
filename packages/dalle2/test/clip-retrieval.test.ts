import { resolve } from 'node:path';
import { type CLIPModel, loadCLIP } from '@dalle2js/clip';
import type { RawImage } from '@dalle2js/core';
import { renderShape, SHAPE_KINDS, type ShapeColour, type ShapeKind } from '@dalle2js/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIPRetrieval, retrievalPrecision } from '../src/eval/clip-retrieval.js';
import { evaluateShapes, shapesPrompts } from '../src/eval/evaluate-shapes.js';
import type { Dalle2 } from '../src/index.js';
import { tinyClip } from './tiny-pipeline.js';

const EVAL_CLIP = resolve(import.meta.dirname, '../../../models/eval-clip');

function solid(size: number, rgb: [number, number, number], width = size): RawImage {
  const data = new Uint8Array(size * width * 3);
  for (let i = 0; i < size * width; i++) data.set(rgb, i * 3);
  return { width, height: size, channels: 3, data };
}

/**
 * A tiny CLIP with hand-made embeddings: prompt i embeds as `textEmbeds[i]`, an image as its mean
 * preprocessed colour (so a red image points along +x, a green one along +y, a blue one along +z).
 */
function handMadeClip(textEmbeds: number[][]): CLIPModel {
  const clip = tinyClip(1, undefined, 3);
  clip.encodeText = () => tf.tidy(() => tf.tensor2d(textEmbeds)) as tf.Tensor2D;
  clip.encodeImage = (pixels: tf.Tensor) =>
    tf.tidy(() => {
      const mean = tf.mean(pixels, [1, 2]); // [B, 3]
      return tf.div(mean, tf.norm(mean, 'euclidean', 1, true)) as tf.Tensor2D;
    });
  return clip;
}

/** A clean picture of 'a <colour> <shape>', as the training data draws it. */
function picture(colour: ShapeColour, shape: ShapeKind, size = 32): RawImage {
  const image = renderShape({ colour, shape, size: 'large', position: 'center', background: 'gray' }, size);
  return { ...image, channels: 3 };
}

describe('CLIPRetrieval', () => {
  it('picks the most similar prompt for each image, in order, resizing to the CLIP input', async () => {
    const clip = handMadeClip([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    const before = tf.memory().numTensors;
    const retrieval = new CLIPRetrieval(clip, ['red', 'green', 'blue']);
    expect(retrieval.chance).toBeCloseTo(1 / 3);
    // 16 px images for an 8 px CLIP: its own bicubic resize.
    const images = [
      solid(16, [0, 200, 0]),
      solid(16, [220, 30, 30]),
      solid(16, [20, 20, 240]),
      solid(16, [0, 255, 0]),
    ];
    const best = await retrieval.retrieve(images);
    expect(best).toEqual([1, 0, 2, 1]);
    // Batches of 3 then 1 give the same answer.
    expect(await retrieval.retrieve(images, 3)).toEqual(best);
    expect(await retrieval.retrieve([])).toEqual([]);
    await expect(retrieval.retrieve([solid(16, [0, 0, 0], 24)])).rejects.toThrow(
      'image 0 is 24x16; only square images are compared',
    );
    retrieval.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(retrieval.retrieve(images)).rejects.toThrow('used after dispose()');

    expect(retrievalPrecision(best, [1, 0, 2, 1])).toEqual({ images: 4, retrieved: 4, precision: 1 });
    expect(retrievalPrecision(best, [0, 1, 1, 2])).toEqual({ images: 4, retrieved: 0, precision: 0 });
    expect(retrievalPrecision(best, [1, 1, 2, 0])).toEqual({ images: 4, retrieved: 2, precision: 0.5 });
    expect(retrievalPrecision([], []).precision).toBeNaN();
    expect(() => retrievalPrecision(best, [1])).toThrow('4 retrieved indices for 1 targets');
    clip.dispose();
  });

  it('gives ties to the lower index and needs a tokenizer', async () => {
    const clip = handMadeClip([
      [0, 0, 1],
      [1, 0, 0],
      [1, 0, 0],
    ]);
    const retrieval = new CLIPRetrieval(clip, ['blue', 'red', 'also red']);
    expect(await retrieval.retrieve([solid(8, [255, 0, 0])])).toEqual([1]);
    retrieval.dispose();
    clip.tokenizer = undefined;
    expect(() => new CLIPRetrieval(clip, ['red'])).toThrow('the CLIP has no tokenizer');
    expect(() => new CLIPRetrieval(clip, [])).toThrow('non-empty array of candidate prompts');
    clip.dispose();
  });
});

describe('evaluateShapes with the evaluation CLIP (models/eval-clip)', () => {
  let evalClip: CLIPModel;
  beforeAll(async () => {
    evalClip = await loadCLIP(EVAL_CLIP);
  });
  afterAll(() => evalClip.dispose());

  /**
   * A stand-in for a pipeline that draws, for each prompt, the clean picture of `draw(prompt)`,
   * at `size` px in [-1, 1] as `Dalle2.generate` returns.
   */
  function drawing(draw: (index: number) => number, size = 32): Dalle2 {
    const all = shapesPrompts();
    const generate = async (prompts: string[], options: { imagesPerPrompt?: number } = {}) => {
      const perPrompt = options.imagesPerPrompt ?? 1;
      const pictures = prompts.flatMap((prompt) => {
        const target = all[draw(all.findIndex((p) => p.prompt === prompt))]!;
        return Array.from({ length: perPrompt }, () => picture(target.colour, target.shape, size));
      });
      const pixels = new Float32Array(pictures.flatMap((image) => [...image.data].map((v) => v / 127.5 - 1)));
      return { images: tf.tensor4d(pixels, [pictures.length, size, size, 3]) };
    };
    return { generate } as unknown as Dalle2;
  }

  it('scores a perfect drawer near 1 and one that draws the next prompt near 0, without leaking', async () => {
    const before = tf.memory().numTensors;
    const right = await evaluateShapes(
      drawing((i) => i),
      { evalClip, imagesPerPrompt: 2, promptsPerBatch: 5 },
    );
    expect(tf.memory().numTensors).toBe(before);
    const r = right.retrieval!;
    expect(r.chance).toBeCloseTo(1 / 24);
    expect([r.all.images, r.seen.images, r.heldOut.images]).toEqual([48, 40, 8]);
    // The pixel checker and the CLIP judge the same images.
    expect(right.seen.rate).toBe(1);
    expect(r.seen.precision).toBeGreaterThanOrEqual(0.9);
    expect(r.all.retrieved).toBe(r.seen.retrieved + r.heldOut.retrieved);
    expect(r.all.precision).toBeCloseTo(r.all.retrieved / 48);
    expect(right.prompts.reduce((n, p) => n + p.retrieval!.retrieved, 0)).toBe(r.all.retrieved);
    for (const p of right.prompts) {
      expect(p.retrieval!.colourRetrieved).toBeGreaterThanOrEqual(p.retrieval!.retrieved);
      expect(p.retrieval!.shapeRetrieved).toBeGreaterThanOrEqual(p.retrieval!.retrieved);
    }

    // Each prompt gets the next shape in the same colour: colour right, shape and prompt wrong.
    const next = (i: number) => i - (i % 4) + ((i + 1) % 4);
    expect(SHAPE_KINDS).toHaveLength(4);
    const wrong = (await evaluateShapes(drawing(next, 16), { evalClip })).retrieval!;
    expect(wrong.all.images).toBe(24);
    expect(wrong.all.precision).toBeLessThanOrEqual(0.1);
    expect(wrong.all.colourRetrieved).toBeGreaterThanOrEqual(20);
    expect(wrong.all.shapeRetrieved).toBeLessThanOrEqual(3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves retrieval out without an evaluation CLIP', async () => {
    const result = await evaluateShapes(drawing((i) => i));
    expect(result.retrieval).toBeUndefined();
    expect(result.prompts[0]!.retrieval).toBeUndefined();
  });
});
