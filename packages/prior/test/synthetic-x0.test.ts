import { describe, expect, it } from 'vitest';
import { trainAndEvaluate } from './synthetic.js';

describe('a small prior trained on image = normalize(W text), x0 target', () => {
  it('beats the text-embedding and mean-image-embedding baselines on held-out pairs', async () => {
    const result = await trainAndEvaluate({
      prediction: 'x0',
      network: { dim: 16, depth: 1, heads: 2, mlpRatio: 2 },
      trainer: { lr: 3e-3, batchSize: 128 },
      steps: 250,
    });
    expect(result.count).toBe(256);
    expect(result.prior).toBeGreaterThan(Math.max(result.textEmbedding, result.meanImageEmbedding) + 0.3);
  });
});
