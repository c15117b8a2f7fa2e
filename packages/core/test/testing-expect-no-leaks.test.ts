import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { countNewTensors, expectNoLeaks } from '../src/testing/index.js';

describe('countNewTensors / expectNoLeaks', () => {
  test('count the tensors a second run leaves behind', async () => {
    const kept: tf.Tensor[] = [];
    expect(await countNewTensors(() => kept.push(tf.ones([2]), tf.zeros([3])))).toBe(2);
    await expect(expectNoLeaks(() => kept.push(tf.ones([2])))).rejects.toThrow(/1 tensor\(s\) leaked/);
    tf.dispose(kept);
  });

  test('ignore a warm-up allocation made only on the first run', async () => {
    let cache: tf.Tensor | undefined;
    await expectNoLeaks(() => {
      cache ??= tf.ones([4]);
    });
    cache?.dispose();
  });

  test('dispose a returned tensor or array of tensors', async () => {
    await expectNoLeaks(() => tf.ones([2]));
    await expectNoLeaks(() => [tf.ones([2]), tf.zeros([2])]);
  });

  test('await async functions', async () => {
    const kept: tf.Tensor[] = [];
    const leaky = async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      kept.push(tf.ones([1]));
    };
    expect(await countNewTensors(leaky)).toBe(1);
    await expectNoLeaks(async () => {
      const t = tf.ones([3]);
      try {
        await t.data();
      } finally {
        t.dispose();
      }
    });
    tf.dispose(kept);
  });
});
