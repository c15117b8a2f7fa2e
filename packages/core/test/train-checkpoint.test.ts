import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Module } from '../src/nn/module.js';
import { TorchGenerator } from '../src/random/index.js';
import { expectNoLeaks } from '../src/testing/index.js';
import {
  AdamW,
  EMA,
  loadTrainingCheckpoint,
  saveTrainingCheckpoint,
  type TrainingState,
  trainStep,
} from '../src/train/index.js';
import { saveSafetensorsFile, serializeSafetensors } from '../src/weights/index.js';

class Line extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor(generator: TorchGenerator) {
    super();
    this.weight = this.addParameter('weight', generator.randnTensor([3]));
    this.bias = tf.tidy(() => this.addParameter('bias', tf.zeros([1])));
  }
}

/** A module, its optimizer, EMA and generator, as a trainer holds them. */
function run(seed: number): TrainingState & { module: Line } {
  const generator = new TorchGenerator(seed);
  const module = new Line(generator);
  return {
    module,
    ema: new EMA(module, { decay: 0.9 }),
    optimizer: new AdamW(module, { lr: 0.1 }),
    generator,
  };
}

/** One step on a batch the run's generator draws: resumed runs must draw the same batches. */
async function step(state: TrainingState & { module: Line }): Promise<number> {
  const x = state.generator.randnTensor([4, 3]);
  const loss = await trainStep(
    state.module,
    () =>
      tf.mean(tf.square(tf.sub(tf.sum(tf.mul(x, state.module.weight), 1), state.module.bias))) as tf.Scalar,
    state.optimizer,
  );
  x.dispose();
  state.ema.update();
  return loss;
}

function dispose(state: TrainingState): void {
  state.module.dispose();
  state.ema.dispose();
  state.optimizer.dispose();
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dalle2js-checkpoint-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('training checkpoints', () => {
  test('a resumed run takes the same steps as an unbroken one', async () => {
    const unbroken = run(3);
    const expected: number[] = [];
    for (let i = 0; i < 5; i++) expected.push(await step(unbroken));

    const first = run(3);
    for (let i = 0; i < 2; i++) await step(first);
    const path = join(dir, 'resume.safetensors');
    await saveTrainingCheckpoint(path, { ...first, step: 2 }, { format: 'test-v1' });
    const resumed = run(99); // other weights and generator state: the checkpoint overwrites them
    const { step: at, metadata } = await loadTrainingCheckpoint(path, resumed, () => {});
    expect(at).toBe(2);
    expect(metadata.format).toBe('test-v1');
    const losses: number[] = [];
    for (let i = 2; i < 5; i++) losses.push(await step(resumed));
    expect(losses).toEqual(expected.slice(2));
    expect(Array.from(await resumed.module.weight.data())).toEqual(
      Array.from(await unbroken.module.weight.data()),
    );
    expect(resumed.ema.step).toBe(unbroken.ema.step);
    for (const state of [unbroken, first, resumed]) dispose(state);
  });

  test('a rejected or foreign checkpoint changes nothing and names the problem', async () => {
    const saved = run(1);
    await step(saved);
    const path = join(dir, 'reject.safetensors');
    await saveTrainingCheckpoint(path, { ...saved, step: 1 }, { format: 'test-v1' });
    const target = run(2);
    const before = Array.from(await target.module.weight.data());
    await expect(
      loadTrainingCheckpoint(path, target, (metadata) => {
        throw new Error(`wrong format ${metadata.format}`);
      }),
    ).rejects.toThrow('wrong format test-v1');
    expect(Array.from(await target.module.weight.data())).toEqual(before);

    const foreign = join(dir, 'foreign.safetensors');
    const stray = { dtype: 'F32' as const, shape: [1], data: new Float32Array([1]) };
    await saveSafetensorsFile(foreign, serializeSafetensors(new Map([['stray.x', stray]]), {}));
    await expect(loadTrainingCheckpoint(foreign, target, () => {})).rejects.toThrow(
      `${foreign} holds an unknown tensor "stray.x"`,
    );
    dispose(saved);
    dispose(target);
  });

  test('saving and loading leak no tensors', async () => {
    const state = run(4);
    const path = join(dir, 'leaks.safetensors');
    await expectNoLeaks(() => saveTrainingCheckpoint(path, { ...state, step: 0 }, {}));
    await expectNoLeaks(() => loadTrainingCheckpoint(path, state, () => {}));
    dispose(state);
  });
});
