import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Linear, TorchGenerator } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lossCurveSvg } from '../src/train/loss-curve-svg.js';
import { defaultOptimizerConfig, ModuleTrainer } from '../src/train/module-trainer.js';
import { resolveTrainConfig } from '../src/train/train-config.js';
import { drawRows } from '../src/train/training-data.js';

const join2 = (a: string, b: string) => `${a}/${b}`;

describe('ModuleTrainer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'module-trainer-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const data = tf.tidy(() => tf.randomNormal([32, 4], 0, 1, 'float32', 1));
  const target = tf.tidy(() => tf.matMul(data, tf.randomNormal([4, 2], 0, 1, 'float32', 2)));
  const lossFn = (model: Linear) => (generator: TorchGenerator) =>
    tf.tidy(() => {
      const rows = tf.tensor1d(drawRows(32, generator.uniform(8)), 'int32');
      return tf.mean(
        tf.square(tf.sub(model.apply(tf.gather(data, rows)), tf.gather(target, rows))),
      ) as tf.Scalar;
    });
  const config = { ...defaultOptimizerConfig, lr: 0.05, warmupSteps: 2, emaDecay: 0.9, seed: 3 };

  it('resumes from a checkpoint exactly as the uninterrupted run goes on, leaking nothing', async () => {
    const straight = new Linear(4, 2, { rng: new TorchGenerator(0) });
    const trainer = new ModuleTrainer(straight, config, { in: 4, out: 2 });
    const losses: number[] = [];
    for (let i = 0; i < 6; i++) losses.push((await trainer.trainStep(lossFn(straight))).loss);
    expect(losses[5]!).toBeLessThan(losses[0]!);

    const first = new Linear(4, 2, { rng: new TorchGenerator(0) });
    const half = new ModuleTrainer(first, config, { in: 4, out: 2 });
    for (let i = 0; i < 3; i++) await half.trainStep(lossFn(first));
    const path = join(dir, 'ckpt.safetensors');
    await half.save(path);
    const before = tf.memory().numTensors;
    const second = new Linear(4, 2, { rng: new TorchGenerator(7) });
    const resumed = new ModuleTrainer(second, config, { in: 4, out: 2 });
    await resumed.load(path);
    expect(resumed.step).toBe(3);
    const rest: number[] = [];
    for (let i = 0; i < 3; i++) rest.push((await resumed.trainStep(lossFn(second))).loss);
    expect(rest).toEqual(losses.slice(3));
    expect(await second.weight.data()).toEqual(await straight.weight.data());
    const emaWeight = async (t: ModuleTrainer, m: Linear) => t.withEmaWeights(async () => m.weight.data());
    expect(await emaWeight(resumed, second)).toEqual(await emaWeight(trainer, straight));

    const other = new ModuleTrainer(second, config, { in: 5 });
    await expect(other.load(path)).rejects.toThrow(/another model config/);
    other.dispose();
    resumed.dispose();
    second.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (const t of [trainer, half]) t.dispose();
    for (const m of [straight, first]) m.dispose();
  });

  it('refuses a loss that is not finite', async () => {
    const model = new Linear(4, 2, { rng: new TorchGenerator(0) });
    const trainer = new ModuleTrainer(model, config);
    await expect(
      trainer.trainStep(() => tf.mul(tf.sum(model.weight), Number.NaN) as tf.Scalar),
    ).rejects.toThrow(/the loss is NaN at step 1/);
    expect(trainer.step).toBe(0);
    trainer.dispose();
    model.dispose();
  });
});

describe('training helpers', () => {
  it('draws distinct rows, deterministically', () => {
    const rows = drawRows(10, new TorchGenerator(1).uniform(10));
    expect([...rows].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...drawRows(10, new TorchGenerator(1).uniform(4))]).toEqual([...rows.slice(0, 4)]);
    expect(drawRows(3, new TorchGenerator(1).uniform(8))).toHaveLength(3);
  });

  it('draws the loss curve, log-scaled when the loss spans a factor of 10', () => {
    const svg = lossCurveSvg(
      [1, 2, 3, 4].map((step) => ({ step, loss: 10 / step ** 2 })),
      'a <run>',
    );
    expect(svg).toMatch(/^<svg xmlns/);
    expect(svg).toContain('loss (log scale)');
    expect(svg).toContain('a &lt;run&gt;');
    expect(svg.match(/L/g)?.length).toBeGreaterThanOrEqual(3);
    expect(lossCurveSvg([])).toContain('no data yet');
  });

  it('checks a train config once, naming the field', () => {
    const base = { model: 'm', out: 'o', data: { source: 'shapes' }, steps: 10 };
    const config = resolveTrainConfig(base, 'c.json', '/base', join2);
    expect(config.model).toBe('/base/m');
    expect(config.batchSize).toBe(16);
    expect(config.data.count).toBe(2000);
    const bad = (patch: Record<string, unknown>) => () =>
      resolveTrainConfig({ ...base, ...patch }, 'c.json', '/b', join2);
    expect(bad({ steps: 0 })).toThrow(/c.json: field "steps" must be an integer >= 1, got 0/);
    expect(bad({ steps: undefined })).toThrow(/field "steps" is required/);
    expect(bad({ learningRate: 1 })).toThrow(
      /field "learningRate" is not a known field; valid: model, out, data, steps, lr/,
    );
    expect(bad({ betas: [0.9] })).toThrow(/field "betas" must be two numbers in \[0, 1\)/);
    expect(bad({ maxGradNorm: 0 })).toThrow(/field "maxGradNorm" must be a positive number or null/);
    expect(config.timestepPower).toBe(1);
    expect(bad({ timestepPower: 0 })).toThrow(/field "timestepPower" must be a positive number, got 0/);
    expect(bad({ data: { source: 'folder' } })).toThrow(
      /field "data.path" is required for "source": "folder"/,
    );
    expect(bad({ data: { source: 'shapes', colour: 'red' } })).toThrow(
      /field "data.colour" is not a known field/,
    );
    expect(bad({ data: { source: 'shapes', split: 'test' } })).toThrow(
      /"data.split" must be one of train, heldout, all/,
    );
    expect(bad({ decoder: [] })).toThrow(/field "decoder" must be an object/);
    expect(bad({ model: '' })).toThrow(/field "model" must be a non-empty string/);
  });
});
