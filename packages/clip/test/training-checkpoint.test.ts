import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensorsFile, manualSeed, selectBackend } from '@dalle2js/core';
import { expectNoLeaks } from '@dalle2js/core/testing';
import { makeShapesDataset } from '@dalle2js/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLIPModel } from '../src/clip-model.js';
import type { CLIPTokenizer } from '../src/tokenizer/clip-tokenizer.js';
import {
  CLIPTrainer,
  type CLIPTrainerConfig,
  captionAttributes,
  captionMatchesSpec,
  evaluateRetrieval,
  loadCLIPCheckpoint,
  shapesCLIPConfig,
  shapesTokenizer,
} from '../src/training/index.js';

// wasm: the cpu backend's embedding gradient (UnsortedSegmentSum) takes a second per step here.
// One thread, so that every run sums in the same order.
beforeAll(async () => {
  await selectBackend('wasm', { wasmThreads: 1 });
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

const tokenizer = shapesTokenizer();
const examples = makeShapesDataset({ count: 40, imageSize: 16, seed: 3, split: 'train' });
const config: Partial<CLIPTrainerConfig> = {
  batchSize: 8,
  steps: 6,
  warmupSteps: 2,
  learningRate: 3e-3,
  seed: 5,
};

/** A tiny CLIP (one 32-wide layer per tower, 16 px images) so that steps are quick on the cpu backend. */
function tinyModel(seed: number, width = 32, words: CLIPTokenizer = tokenizer): CLIPModel {
  const base = shapesCLIPConfig(words);
  manualSeed(seed);
  return new CLIPModel(
    {
      ...base,
      text_config: {
        ...base.text_config,
        hidden_size: width,
        intermediate_size: 64,
        num_hidden_layers: 1,
        num_attention_heads: 2,
      },
      vision_config: {
        ...base.vision_config,
        hidden_size: width,
        intermediate_size: 64,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        image_size: 16,
      },
      projection_dim: 16,
    },
    { tokenizer: words },
  );
}

async function weightsOf(model: CLIPModel): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [key, { variable }] of model.namedParameters())
    out.set(key, (await variable.data()) as Float32Array);
  return out;
}

const owned: { dispose(): void }[] = [];
afterEach(() => {
  for (const item of owned.splice(0)) item.dispose();
});

function track<T extends { dispose(): void }>(item: T): T {
  owned.push(item);
  return item;
}

describe('CLIPTrainer checkpoints', () => {
  it('resumes to the same losses and weights as an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clip-ckpt-'));
    const path = join(dir, 'checkpoint.safetensors');

    const straight = track(tinyModel(0));
    const straightTrainer = track(new CLIPTrainer(straight, examples, config, { progress: false }));
    const uninterrupted = (await straightTrainer.train()).losses;
    expect(uninterrupted).toHaveLength(6);

    const first = track(tinyModel(0));
    const firstTrainer = track(new CLIPTrainer(first, examples, config, { progress: false }));
    const head = [];
    for (let i = 0; i < 3; i++) head.push((await firstTrainer.trainStep()).loss);
    await firstTrainer.saveCheckpoint(path);
    expect(head).toEqual(uninterrupted.slice(0, 3));

    // Other initial weights, so that only the checkpoint can make the runs agree.
    const resumed = track(tinyModel(123));
    const resumedTrainer = track(new CLIPTrainer(resumed, examples, config, { progress: false }));
    await resumedTrainer.loadCheckpoint(path);
    expect(resumedTrainer.step).toBe(3);
    const tail = await resumedTrainer.train();
    expect(tail.steps).toBe(3);
    expect(tail.losses).toEqual(uninterrupted.slice(3));
    expect(await weightsOf(resumed)).toEqual(await weightsOf(straight));
  });

  it('writes one file: the model under model., AdamW under optimizer., the step and configs as metadata', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clip-ckpt-'));
    const path = join(dir, 'checkpoint.safetensors');
    const model = track(tinyModel(1));
    const trainer = track(
      new CLIPTrainer(model, examples, { ...config, steps: 4, warmupSteps: 1 }, { progress: false }),
    );
    await trainer.trainStep();
    await trainer.trainStep();
    await trainer.saveCheckpoint(path);
    expect(readdirSync(dir)).toEqual(['checkpoint.safetensors']);

    const { tensors, metadata } = await loadSafetensorsFile(path);
    expect(metadata['dalle2js.step']).toBe('2');
    expect(JSON.parse(metadata['dalle2js.clip_config']!)).toEqual(model.config);
    expect(JSON.parse(metadata['dalle2js.trainer_config']!)).toEqual(trainer.config);
    expect(metadata.format).toBe('pt');
    const keys = [...tensors.keys()];
    expect(keys.filter((key) => key.startsWith('model.')).sort()).toEqual(
      [...model.namedParameters().keys()].map((key) => `model.${key}`).sort(),
    );
    expect(tensors.get('model.text_projection.weight')?.shape).toEqual([16, 32]); // PyTorch [out, in]
    expect(tensors.get('optimizer.logit_scale.step')).toEqual({
      dtype: 'I32',
      shape: [],
      data: new Int32Array([2]),
    });
    expect(keys.every((key) => key.startsWith('model.') || key.startsWith('optimizer.'))).toBe(true);
  });

  it('trains on from the checkpoint step until config.steps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clip-ckpt-'));
    const path = join(dir, 'run.safetensors');
    const model = track(tinyModel(2));
    const seen: number[] = [];
    const trainer = track(
      new CLIPTrainer(
        model,
        examples,
        { ...config, steps: 5 },
        {
          progress: false,
          checkpointPath: path,
          checkpointEvery: 2,
          onStep: (info) => {
            seen.push(info.step);
          },
        },
      ),
    );
    const summary = await trainer.train();
    expect(summary.steps).toBe(5);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect((await loadSafetensorsFile(path)).metadata['dalle2js.step']).toBe('5');
    // A finished run has nothing left to do.
    expect((await trainer.train()).steps).toBe(0);
  });

  it('refuses a checkpoint written for another config, and leaves the model and optimizer as they were', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clip-ckpt-'));
    const path = join(dir, 'checkpoint.safetensors');
    const small = track(tinyModel(3));
    const smallTrainer = track(new CLIPTrainer(small, examples, config, { progress: false }));
    await smallTrainer.trainStep();
    await smallTrainer.saveCheckpoint(path);

    const wide = track(tinyModel(4, 48));
    const wideTrainer = track(new CLIPTrainer(wide, examples, config, { progress: false }));
    const before = await weightsOf(wide);
    await expect(wideTrainer.loadCheckpoint(path)).rejects.toThrow('was written for another CLIP config');
    expect(await weightsOf(wide)).toEqual(before);
    expect(wideTrainer.step).toBe(0);
    await expect(
      loadCLIPCheckpoint(join(dir, 'missing.safetensors'), { model: wide, optimizer: wideTrainer.optimizer }),
    ).rejects.toThrow('missing.safetensors');
  });
});

describe('CLIPTrainer memory', () => {
  it('leaks no tensor per training step, checkpoint or evaluation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clip-ckpt-'));
    const path = join(dir, 'checkpoint.safetensors');
    const model = track(tinyModel(5));
    const named = examples.map((example) => captionAttributes(example.caption));
    const trainer = track(
      new CLIPTrainer(
        model,
        examples,
        { ...config, steps: 20 },
        {
          progress: false,
          matches: (text, image) => captionMatchesSpec(named[text]!, examples[image]!.spec),
        },
      ),
    );
    const tensorsBefore = tf.memory().numTensors;
    await trainer.trainStep(); // creates AdamW's moments: two per parameter
    expect(tf.memory().numTensors - tensorsBefore).toBe(2 * model.trainableVariables().length);
    await expectNoLeaks(() => trainer.trainStep());
    await expectNoLeaks(() => trainer.saveCheckpoint(path));
    await expectNoLeaks(() => trainer.loadCheckpoint(path));
    await expectNoLeaks(() => evaluateRetrieval(model, examples.slice(0, 10), { batchSize: 4 }));
    trainer.dispose();
    owned.splice(owned.indexOf(trainer), 1);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
