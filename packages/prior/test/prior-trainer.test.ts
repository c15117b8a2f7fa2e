import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TorchGenerator } from '@dalle2js/core';
import { expectNoLeaks } from '@dalle2js/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DiffusionPrior,
  disposeEmbeddingBatch,
  type EmbeddingBatch,
  evaluatePrior,
  PriorTrainer,
  type PriorTrainingProgress,
  resolvePriorTrainerConfig,
} from '../src/index.js';

const config = {
  network: { dim: 8, depth: 1, heads: 2, numTextTokens: 2, textEncodingDim: 4, mlpRatio: 2 },
  numTrainTimesteps: 10,
};
const trainerConfig = { lr: 1e-2, batchSize: 4, emaDecay: 0.9, seed: 7 };

function data(n: number, seed: number): EmbeddingBatch {
  const g = new TorchGenerator(seed);
  return {
    textEmbeds: g.randnTensor([n, 8]),
    imageEmbeds: g.randnTensor([n, 8]),
    textEncodings: g.randnTensor([n, 2, 4]),
    textMask: tf.ones([n, 2]),
  };
}

async function weights(prior: DiffusionPrior): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const [name, { variable }] of prior.network.namedParameters())
    out.set(name, Array.from(await variable.data()));
  return out;
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prior-trainer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('PriorTrainer', () => {
  it('takes optimizer steps that change the weights and reports progress', async () => {
    const prior = new DiffusionPrior(config, { rng: new TorchGenerator(1) });
    const trainer = new PriorTrainer(prior, trainerConfig);
    const train = data(16, 2);
    const before = await weights(prior);
    const seen: PriorTrainingProgress[] = [];
    const last = await trainer.fit(train, { steps: 3, onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.step)).toEqual([1, 2, 3]);
    expect(last).toEqual(seen[2]);
    for (const p of seen) {
      expect(Number.isFinite(p.loss)).toBe(true);
      expect(p.lr).toBe(1e-2);
    }
    expect(trainer.step).toBe(3);
    const after = await weights(prior);
    expect(after.get('proj_out.weight')).not.toEqual(before.get('proj_out.weight'));
    // The EMA trails the weights: swapping it in gives other weights, swapping back restores them.
    const ema = await trainer.withEmaWeights(() => weights(prior));
    expect(ema.get('proj_out.weight')).not.toEqual(after.get('proj_out.weight'));
    expect(await weights(prior)).toEqual(after);
    trainer.dispose();
    prior.dispose();
    disposeEmbeddingBatch(train);
  });

  it('stops when aborted, keeping the steps done', async () => {
    const prior = new DiffusionPrior(config, { rng: new TorchGenerator(1) });
    const trainer = new PriorTrainer(prior, trainerConfig);
    const train = data(8, 2);
    const controller = new AbortController();
    await trainer.fit(train, {
      steps: 10,
      signal: controller.signal,
      onProgress: (p) => p.step === 2 && controller.abort(),
    });
    expect(trainer.step).toBe(2);
    trainer.dispose();
    prior.dispose();
    disposeEmbeddingBatch(train);
  });

  it('follows warm-up and cosine learning rates', async () => {
    const prior = new DiffusionPrior(config, { rng: new TorchGenerator(1) });
    const train = data(8, 2);
    const rates = async (c: object) => {
      const trainer = new PriorTrainer(prior, { ...trainerConfig, ...c });
      const out: number[] = [];
      await trainer.fit(train, { steps: 4, onProgress: (p) => out.push(p.lr) });
      trainer.dispose();
      return out;
    };
    expect(await rates({ warmupSteps: 2 })).toEqual([0, 5e-3, 1e-2, 1e-2]);
    const cosine = await rates({ warmupSteps: 1, totalSteps: 3 });
    expect(cosine[0]).toBe(0);
    expect(cosine[1]).toBe(1e-2);
    expect(cosine[2]).toBeCloseTo(5e-3, 12);
    expect(cosine[3]).toBe(0);
    prior.dispose();
    disposeEmbeddingBatch(train);
  });

  it('resumes from a checkpoint exactly: weights, EMA, optimizer, step and generator', async () => {
    const path = join(dir, 'prior.safetensors');
    const train = data(16, 3);
    const prior = new DiffusionPrior(config, { rng: new TorchGenerator(1) });
    const trainer = new PriorTrainer(prior, trainerConfig);
    await trainer.fit(train, { steps: 3 });
    await trainer.save(path);
    const uninterrupted = await trainer.fit(train, { steps: 2 });
    const expectedWeights = await weights(prior);
    const expectedEma = await trainer.withEmaWeights(() => weights(prior));

    // A fresh prior with other initial weights and a trainer with another seed.
    const resumedPrior = new DiffusionPrior(config, { rng: new TorchGenerator(99) });
    const resumed = new PriorTrainer(resumedPrior, { ...trainerConfig, seed: 123 });
    await resumed.load(path);
    expect(resumed.step).toBe(3);
    const continued = await resumed.fit(train, { steps: 2 });
    expect(continued).toEqual(uninterrupted);
    expect(await weights(resumedPrior)).toEqual(expectedWeights);
    expect(await resumed.withEmaWeights(() => weights(resumedPrior))).toEqual(expectedEma);

    const other = new DiffusionPrior({ ...config, numTrainTimesteps: 20 }, { rng: new TorchGenerator(1) });
    const otherTrainer = new PriorTrainer(other, trainerConfig);
    await expect(otherTrainer.load(path)).rejects.toThrow(/was written for prior config/);
    for (const t of [trainer, resumed, otherTrainer]) t.dispose();
    for (const p of [prior, resumedPrior, other]) p.dispose();
    disposeEmbeddingBatch(train);
  });

  it('leaks no tensors in a step, a fit or a checkpoint round trip', async () => {
    const prior = new DiffusionPrior(config, { rng: new TorchGenerator(1) });
    const trainer = new PriorTrainer(prior, trainerConfig);
    const train = data(8, 2);
    const path = join(dir, 'leaks.safetensors');
    await expectNoLeaks(() => trainer.trainStep(train));
    await expectNoLeaks(() => trainer.fit(train, { steps: 2 }));
    await expectNoLeaks(async () => {
      await trainer.save(path);
      await trainer.load(path);
    });
    trainer.dispose();
    prior.dispose();
    disposeEmbeddingBatch(train);
  });

  it('validates its config once, naming the valid fields', () => {
    expect(resolvePriorTrainerConfig({})).toMatchObject({
      lr: 1.1e-4,
      betas: [0.9, 0.96],
      weightDecay: 6e-2,
    });
    expect(() => resolvePriorTrainerConfig({ lr: 0 })).toThrow(/lr must be a positive number/);
    expect(() => resolvePriorTrainerConfig({ totalSteps: 5, warmupSteps: 10 })).toThrow(/totalSteps/);
    expect(() => resolvePriorTrainerConfig({ epochs: 3 } as never)).toThrow(
      /unknown config field "epochs"; valid:/,
    );
  });
});

describe('evaluatePrior', () => {
  it('reports the prior beside the text-embedding and mean-image-embedding baselines', async () => {
    const prior = new DiffusionPrior(config, { rng: new TorchGenerator(1) });
    const heldOut = data(5, 4);
    const g = new TorchGenerator(5);
    const trainImageEmbeds = g.randnTensor([7, 8]);
    const options = {
      trainImageEmbeds,
      generator: new TorchGenerator(6),
      sampler: 'ddim' as const,
      steps: 2,
      batchSize: 2,
    };
    const result = await evaluatePrior(prior, heldOut, options);
    expect(result.count).toBe(5);

    // The baselines by hand.
    const texts = (await heldOut.textEmbeds.array()) as number[][];
    const images = (await heldOut.imageEmbeds.array()) as number[][];
    const train = (await trainImageEmbeds.array()) as number[][];
    const unit = (v: number[]) => v.map((x) => x / Math.hypot(...v));
    const cosine = (a: number[], b: number[]) => unit(a).reduce((s, x, i) => s + x * unit(b)[i]!, 0);
    const mean = train[0]!.map((_, j) => train.reduce((s, row) => s + unit(row)[j]!, 0) / train.length);
    const average = (f: (i: number) => number) => texts.reduce((s, _, i) => s + f(i), 0) / texts.length;
    expect(result.textEmbedding).toBeCloseTo(
      average((i) => cosine(texts[i]!, images[i]!)),
      5,
    );
    expect(result.meanImageEmbedding).toBeCloseTo(
      average((i) => cosine(mean, images[i]!)),
      5,
    );

    // The prior's number is the mean cosine of its samples (drawn in batches of 2 from one generator).
    const sampled: number[][] = [];
    const generator = new TorchGenerator(6);
    for (const [start, size] of [
      [0, 2],
      [2, 2],
      [4, 1],
    ] as const) {
      const part = tf.slice(heldOut.textEmbeds, start, size);
      const encodings = tf.slice(heldOut.textEncodings!, start, size);
      const mask = tf.slice(heldOut.textMask!, start, size);
      const s = await prior.sample(part, {
        textEncodings: encodings,
        textMask: mask,
        generator,
        sampler: 'ddim',
        steps: 2,
      });
      sampled.push(...((await s.array()) as number[][]));
      tf.dispose([part, encodings, mask, s]);
    }
    expect(result.prior).toBeCloseTo(
      average((i) => cosine(sampled[i]!, images[i]!)),
      5,
    );

    await expectNoLeaks(() =>
      evaluatePrior(prior, heldOut, { ...options, generator: new TorchGenerator(6) }),
    );
    const wrong = tf.zeros([3, 9]);
    await expect(evaluatePrior(prior, heldOut, { trainImageEmbeds: wrong })).rejects.toThrow(
      /trainImageEmbeds of shape \[N, 8\], got \[3, 9\]/,
    );
    tf.dispose([trainImageEmbeds, wrong]);
    disposeEmbeddingBatch(heldOut);
    prior.dispose();
  });
});
