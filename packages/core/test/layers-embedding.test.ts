import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { Embedding } from '../src/layers/index.js';
import { TorchGenerator } from '../src/random/index.js';
import { checkModuleGradients, expectNoLeaks } from '../src/testing/index.js';

describe('Embedding', () => {
  test('initialises N(0, 1) in [num, dim] order, like torch.nn.Embedding', () => {
    const embedding = new Embedding(5, 3, { rng: new TorchGenerator(9) });
    const expected = new TorchGenerator(9).randn([5, 3]);
    expect([...embedding.namedParameters().keys()]).toEqual(['weight']);
    expect(embedding.weight.shape).toEqual([5, 3]);
    expect(Array.from(embedding.weight.dataSync())).toEqual(Array.from(expected));
    embedding.dispose();
  });

  test('looks rows up for ids of any shape', () => {
    const embedding = new Embedding(4, 2, { rng: new TorchGenerator(0) });
    const table = embedding.weight.arraySync() as number[][];
    const ids = tf.tensor2d([0, 3, 3, 1, 2, 0], [2, 3], 'int32');
    const y = embedding.apply(ids);
    expect(y.shape).toEqual([2, 3, 2]);
    expect(y.arraySync()).toEqual([
      [table[0], table[3], table[3]],
      [table[1], table[2], table[0]],
    ]);
    tf.dispose([ids, y]);
    embedding.dispose();
  });

  test('gradients accumulate over repeated ids', () => {
    const gen = new TorchGenerator(1);
    const embedding = new Embedding(4, 3, { rng: gen });
    const ids = tf.tensor1d([2, 0, 2, 2], 'int32');
    const r = gen.randnTensor([4, 3]);
    expect(
      checkModuleGradients(embedding, () => tf.sum(tf.mul(embedding.apply(ids), r)), {
        entriesPerParameter: 12,
      }),
    ).toBeLessThan(1e-2);
    tf.dispose([ids, r]);
    embedding.dispose();
  });

  test('leaks nothing and rejects non-int32 ids', async () => {
    const embedding = new Embedding(4, 2, { rng: new TorchGenerator(0) });
    const ids = tf.tensor1d([1, 2], 'int32');
    await expectNoLeaks(() => embedding.apply(ids));
    const floats = tf.tensor1d([1, 2]);
    expect(() => embedding.apply(floats)).toThrow('Embedding: expected int32 ids, got float32');
    tf.dispose([ids, floats]);
    embedding.dispose();
  });
});
