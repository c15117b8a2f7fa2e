import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { contrastiveLoss } from '../src/contrastive-loss.js';
import { multiPositiveContrastiveLoss } from '../src/training/index.js';

const logSoftmax = (row: number[]) => {
  const max = Math.max(...row);
  const lse = max + Math.log(row.reduce((sum, x) => sum + Math.exp(x - max), 0));
  return row.map((x) => x - lse);
};

describe('multiPositiveContrastiveLoss', () => {
  it('is contrastiveLoss when each text matches only its own image', async () => {
    const logits = tf.tensor2d([2, 0.5, -1, 0.3, 1.5, 0.2, -0.4, 0.9, 3], [3, 3]);
    const none = tf.zeros([3, 3]); // the diagonal is always a match
    const a = multiPositiveContrastiveLoss(logits, none);
    const b = contrastiveLoss(logits);
    expect(await a.data()).toEqual(await b.data());
    tf.dispose([logits, none, a, b]);
  });

  it('spreads each target evenly over the matches, rows for texts and columns for images', async () => {
    const rows = [
      [2, 0, 1],
      [1, 3, -1],
      [0.5, -2, 0],
    ];
    // Text 0 also describes image 1; text 2 also describes image 0.
    const matches = [
      [1, 1, 0],
      [0, 1, 0],
      [1, 0, 1],
    ];
    const textLoss =
      rows
        .map((row, t) => {
          const lp = logSoftmax(row);
          const count = matches[t]!.reduce((s, x) => s + x, 0);
          return -lp.reduce((s, x, i) => s + (matches[t]![i]! * x) / count, 0);
        })
        .reduce((s, x) => s + x, 0) / 3;
    const imageLoss =
      [0, 1, 2]
        .map((i) => {
          const lp = logSoftmax(rows.map((row) => row[i]!));
          const count = matches.reduce((s, row) => s + row[i]!, 0);
          return -lp.reduce((s, x, t) => s + (matches[t]![i]! * x) / count, 0);
        })
        .reduce((s, x) => s + x, 0) / 3;
    const logits = tf.tensor2d(rows);
    const mask = tf.tensor2d(matches);
    const loss = multiPositiveContrastiveLoss(logits, mask);
    expect((await loss.data())[0]).toBeCloseTo((textLoss + imageLoss) / 2, 5);
    tf.dispose([logits, mask, loss]);
  });

  it('leaves nothing allocated and checks shapes', () => {
    const logits = tf.randomNormal([4, 4]);
    const mask = tf.eye(4);
    const before = tf.memory().numTensors;
    tf.dispose(multiPositiveContrastiveLoss(logits, mask));
    expect(tf.memory().numTensors).toBe(before);
    expect(() => tf.tidy(() => multiPositiveContrastiveLoss(logits, tf.eye(3)))).toThrow(
      "matches must have the logits' shape [4, 4], got [3, 3]",
    );
    expect(() => tf.tidy(() => multiPositiveContrastiveLoss(tf.zeros([2, 3]), tf.eye(2)))).toThrow(
      'expected square logits [N, N], got [2, 3]',
    );
    tf.dispose([logits, mask]);
  });
});
