import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePng, TorchGenerator } from '@dalle2js/core';
import { DiffusionPrior } from '@dalle2js/prior';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Dalle2, Decoder, type GenerateOptions, loadDalle2, saveDalle2 } from '../src/index.js';
import {
  tinyClip,
  tinyDecoderConfig,
  tinyPipeline,
  tinyPriorConfig,
  tinyUpsamplerConfig,
} from './tiny-pipeline.js';

const FAST: GenerateOptions = { priorSteps: 5, decoderSteps: 5, seed: 1 };

async function values(t: tf.Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array;
}

describe('Dalle2.generate', () => {
  let pipeline: Dalle2;
  let cascade: Dalle2;
  let work: string;

  beforeAll(async () => {
    pipeline = tinyPipeline(1);
    cascade = tinyPipeline(2, { upsampler: true });
    work = await mkdtemp(join(tmpdir(), 'dalle2-pipeline-'));
  });

  afterAll(async () => {
    pipeline.dispose();
    cascade.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('returns [N, S, S, 3] images in [-1, 1] and one PNG per image, prompt-major', async () => {
    const out = await pipeline.generate(['a red circle', 'a blue square'], { ...FAST, imagesPerPrompt: 2 });
    try {
      expect(out.images.shape).toEqual([4, 8, 8, 3]);
      const data = await values(out.images);
      expect(Math.min(...data)).toBeGreaterThanOrEqual(-1);
      expect(Math.max(...data)).toBeLessThanOrEqual(1);
      expect(out.png).toHaveLength(4);
      const first = decodePng(out.png[0]!);
      expect([first.width, first.height, first.channels]).toEqual([8, 8, 3]);
      // The PNG holds the tensor's pixels.
      expect(first.data[0]).toBe(Math.round((data[0]! + 1) * 127.5));
    } finally {
      out.images.dispose();
    }
  });

  it('runs a cascade: the upsampler makes the final size from the first stage', async () => {
    const out = await cascade.generate('a green cross', FAST);
    expect(out.images.shape).toEqual([1, 16, 16, 3]);
    out.images.dispose();
    expect(cascade.imageSize).toBe(16);
  });

  it('gives the same images for the same seed and other images for another seed', async () => {
    const a = await pipeline.generate('a red circle', { ...FAST, seed: 7, sampler: 'ddpm' });
    const b = await pipeline.generate('a red circle', { ...FAST, seed: 7, sampler: 'ddpm' });
    const c = await pipeline.generate('a red circle', { ...FAST, seed: 8, sampler: 'ddpm' });
    try {
      expect(await values(a.images)).toEqual(await values(b.images));
      expect(a.png).toEqual(b.png);
      expect(await values(a.images)).not.toEqual(await values(c.images));
    } finally {
      tf.dispose([a.images, b.images, c.images]);
    }
  });

  it('reports progress per stage, in order', async () => {
    const calls: string[] = [];
    const out = await cascade.generate('a red circle', {
      priorSteps: 2,
      decoderSteps: [5, 2],
      seed: 3,
      onProgress: (stage, step, total) => calls.push(`${stage} ${step}/${total}`),
    });
    out.images.dispose();
    expect(calls).toEqual([
      'prior 1/2',
      'prior 2/2',
      ...[1, 2, 3, 4, 5].map((s) => `decoder 0 ${s}/5`),
      'decoder 1 1/2',
      'decoder 1 2/2',
    ]);
  });

  it('leaks no tensor, whether it finishes, fails or is aborted', async () => {
    const warm = await cascade.generate('a red circle', FAST);
    warm.images.dispose();
    const before = tf.memory().numTensors;
    const out = await cascade.generate(['a red circle', 'a blue square'], { ...FAST, imagesPerPrompt: 2 });
    out.images.dispose();
    expect(tf.memory().numTensors).toBe(before);

    const controller = new AbortController();
    const aborted = cascade.generate('a red circle', {
      ...FAST,
      signal: controller.signal,
      onProgress: (stage, step) => {
        if (stage === 'decoder 0' && step === 2) controller.abort(new Error('stop here'));
      },
    });
    await expect(aborted).rejects.toThrow('stop here');
    expect(tf.memory().numTensors).toBe(before);

    await expect(
      cascade.generate('a red circle', { ...FAST, decoderSteps: 3, sampler: 'ddim' }),
    ).rejects.toThrow(/DDIM steps must divide/);
    expect(tf.memory().numTensors).toBe(before);

    const early = new AbortController();
    early.abort(new Error('never started'));
    await expect(cascade.generate('a red circle', { ...FAST, signal: early.signal })).rejects.toThrow(
      'never started',
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses empty, blank and too long prompts and bad options, naming them', async () => {
    await expect(pipeline.generate('', FAST)).rejects.toThrow(/prompts\[0\]: the prompt is empty/);
    await expect(pipeline.generate(['a red circle', '   '], FAST)).rejects.toThrow(
      /prompts\[1\]: the prompt is empty/,
    );
    await expect(pipeline.generate([], FAST)).rejects.toThrow(/non-empty list/);
    const long = 'a small red circle on the left next to a large blue square at the top';
    await expect(pipeline.generate(long, FAST)).rejects.toThrow(/tokens .* more than CLIP's context of 12/);
    await expect(pipeline.generate('a red circle', { ...FAST, imagesPerPrompt: 0 })).rejects.toThrow(
      /imagesPerPrompt must be a positive integer, got 0/,
    );
    await expect(pipeline.generate('a red circle', { ...FAST, seed: -1 })).rejects.toThrow(
      /seed must be a non-negative/,
    );
    await expect(pipeline.generate('a red circle', { ...FAST, sampler: 'euler' as never })).rejects.toThrow(
      /sampler must be one of ddpm, ddim/,
    );
    await expect(pipeline.generate('a red circle', { ...FAST, decoderSteps: [1, 2] })).rejects.toThrow(
      /one per decoder \(1\)/,
    );
  });

  it('makes variations of an image from its CLIP image embedding, from a tensor or a PNG', async () => {
    const source = await pipeline.generate('a red circle', FAST);
    try {
      const before = tf.memory().numTensors;
      const fromTensor = await pipeline.variations(source.images, { ...FAST, imagesPerPrompt: 3 });
      expect(fromTensor.images.shape).toEqual([3, 8, 8, 3]);
      const fromPng = await pipeline.variations(source.png[0]!, { ...FAST, imagesPerPrompt: 3 });
      const fromImage = await pipeline.variations(decodePng(source.png[0]!), { ...FAST, imagesPerPrompt: 3 });
      expect(fromPng.images.shape).toEqual([3, 8, 8, 3]);
      expect(await values(fromPng.images)).toEqual(await values(fromImage.images));
      // Three draws from one embedding differ from each other.
      const all = await values(fromTensor.images);
      const size = 8 * 8 * 3;
      expect(all.slice(0, size)).not.toEqual(all.slice(size, 2 * size));
      tf.dispose([fromTensor.images, fromPng.images, fromImage.images]);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      source.images.dispose();
    }
  });

  it('saves and loads a whole pipeline as a folder that gives identical images', async () => {
    const dir = join(work, 'cascade');
    await saveDalle2(cascade, dir);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config.format).toBe('dalle2js-pipeline');
    expect(config.versions['@dalle2js/dalle2']).toMatch(/^\d+\.\d+\.\d+/);
    expect(config.decoders.map((d: { weights: string }) => d.weights)).toEqual([
      'decoder-0.safetensors',
      'decoder-1.safetensors',
    ]);
    const loaded = await loadDalle2(dir);
    try {
      const a = await cascade.generate(['a red circle', 'a blue square'], FAST);
      const b = await loaded.generate(['a red circle', 'a blue square'], FAST);
      expect(await values(b.images)).toEqual(await values(a.images));
      expect(b.png).toEqual(a.png);
      tf.dispose([a.images, b.images]);
    } finally {
      loaded.dispose();
    }
  });

  it('uses the sampling defaults it was given where generate is not told, and saves them', async () => {
    const { clip, prior, decoders } = pipeline;
    const guided = new Dalle2({ clip, prior, decoders, sampling: { decoderGuidance: 2, priorGuidance: 1 } });
    // The tiny models' images saturate whatever the guidance: read the scales the stages are given.
    const priorSample = vi.spyOn(prior, 'sample');
    const decoderSample = vi.spyOn(decoders[0]!, 'sample');
    const scales = () => [
      priorSample.mock.lastCall?.[1]?.guidanceScale,
      decoderSample.mock.lastCall?.[1]?.guidanceScale,
    ];
    try {
      (await guided.generate('a red circle', FAST)).images.dispose();
      expect(scales()).toEqual([1, 2]);
      (
        await guided.generate('a red circle', { ...FAST, decoderGuidance: 8, priorGuidance: 4.5 })
      ).images.dispose();
      expect(scales()).toEqual([4.5, 8]);
      (await pipeline.generate('a red circle', FAST)).images.dispose();
      expect(scales()).toEqual([4, 8]);
    } finally {
      priorSample.mockRestore();
      decoderSample.mockRestore();
    }

    const dir = join(work, 'with-sampling');
    await saveDalle2(guided, dir);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config.sampling).toEqual({ decoderGuidance: 2, priorGuidance: 1 });
    const loaded = await loadDalle2(dir);
    expect(loaded.sampling).toEqual({ decoderGuidance: 2, priorGuidance: 1 });
    loaded.dispose();

    expect(() => new Dalle2({ clip, prior, decoders, sampling: { decoderGuidance: -1 } })).toThrow(
      /decoderGuidance must be a finite number >= 0, got -1/,
    );
    const unknown = { sampler: 'ddpm' } as unknown as { decoderGuidance: number };
    expect(() => new Dalle2({ clip, prior, decoders, sampling: unknown })).toThrow(
      /unknown sampling default "sampler"; valid: priorGuidance, decoderGuidance/,
    );
    config.sampling = { decoderGuidance: 'high' };
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    await expect(loadDalle2(dir)).rejects.toThrow(/field "sampling" is invalid: decoderGuidance must be/);
  });

  it('refuses a missing, incomplete or mismatched model folder with the reason', async () => {
    const before = tf.memory().numTensors;
    await expect(loadDalle2(join(work, 'nowhere'))).rejects.toThrow(/nowhere does not exist/);
    const dir = join(work, 'mismatched');
    await saveDalle2(cascade, dir);
    // decoder-0 replaced by decoder-1's file: the sizes in config.json tell them apart.
    await writeFile(join(dir, 'decoder-0.safetensors'), await readFile(join(dir, 'decoder-1.safetensors')));
    await expect(loadDalle2(dir)).rejects.toThrow(/decoder-0.safetensors has \d+ bytes but config.json says/);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    config.decoders[0].bytes = (await readFile(join(dir, 'decoder-0.safetensors'))).length;
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    await expect(loadDalle2(dir)).rejects.toThrow(/decoder-0.safetensors does not fit config.json/);
    delete config.prior;
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    await expect(loadDalle2(dir)).rejects.toThrow(/has no prior: train it with `dalle2 train prior`/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Dalle2 components', () => {
  it('refuses components whose embedding sizes do not match, naming both', () => {
    const rng = new TorchGenerator(0);
    const clip6 = tinyClip(1, undefined, 6);
    const prior = new DiffusionPrior(tinyPriorConfig(8), { rng });
    const decoder = new Decoder(tinyDecoderConfig(8), { rng });
    const decoder6 = new Decoder(tinyDecoderConfig(6), { rng });
    const upsampler = new Decoder(tinyUpsamplerConfig(8), { rng });
    const clip8 = tinyClip(1);
    const before = tf.memory().numTensors;
    try {
      expect(() => new Dalle2({ clip: clip6, prior, decoders: [decoder] })).toThrow(
        /prior works on 8-d embeddings but CLIP's embeddings are 6-d/,
      );
      expect(() => new Dalle2({ clip: clip8, prior, decoders: [decoder6] })).toThrow(
        /decoder 0 is conditioned on 6-d image embeddings .* CLIP's embeddings are 8-d/,
      );
      expect(() => new Dalle2({ clip: clip8, prior, decoders: [upsampler] })).toThrow(/first stage/);
      expect(() => new Dalle2({ clip: clip8, prior, decoders: [decoder, decoder] })).toThrow(
        /must be an upsampler/,
      );
      expect(() => new Dalle2({ clip: clip8, prior, decoders: [] })).toThrow(/at least one decoder/);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      for (const m of [clip6, prior, decoder, decoder6, upsampler, clip8]) m.dispose();
    }
  });
});
