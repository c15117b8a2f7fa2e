import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';

test('gradients are registered under vitest', () => {
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor([1, 2, 3]));
  expect(Array.from(g.dataSync())).toEqual([2, 4, 6]);
});
