import { describe, expect, it } from 'vitest';
import { trainAndEvaluate } from './synthetic.js';

describe('a small prior trained on image = normalize(W text), epsilon target', () => {
  // Epsilon learns this map more slowly than x0: the network has to reproduce x_t and subtract the
  // scaled x0, with a time-dependent ratio that takes two blocks. Hence a deeper net and a higher lr.
  it('beats the text-embedding and mean-image-embedding baselines on held-out pairs', async () => {
    const result = await trainAndEvaluate({
      prediction: 'epsilon',
      network: { dim: 16, depth: 2, heads: 4, mlpRatio: 2 },
      trainer: { lr: 1e-2, batchSize: 32, totalSteps: null },
      steps: 500,
    });
    expect(result.count).toBe(256);
    expect(result.prior).toBeGreaterThan(Math.max(result.textEmbedding, result.meanImageEmbedding) + 0.1);
  });
});
