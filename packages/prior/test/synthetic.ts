import { TorchGenerator } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  DiffusionPrior,
  type DiffusionPriorNetworkConfig,
  disposeEmbeddingBatch,
  type EmbeddingBatch,
  evaluatePrior,
  type PriorEvaluation,
  type PriorPrediction,
  PriorTrainer,
  type PriorTrainerConfig,
} from '../src/index.js';

/**
 * The synthetic problem: random unit text embeddings, and image embedding = normalize(W text)
 * for one fixed random matrix W (the same for every call).
 */
export function syntheticPairs(dim: number, count: number, seed: number): EmbeddingBatch {
  const map = new TorchGenerator(1234);
  const g = new TorchGenerator(seed);
  return tf.tidy(() => {
    const normalize = (x: tf.Tensor) => tf.div(x, tf.norm(x, 'euclidean', -1, true));
    const w = map.randnTensor([dim, dim]); // [D, D]
    const textEmbeds = normalize(g.randnTensor([count, dim])); // [N, D]
    return { textEmbeds, imageEmbeds: normalize(tf.matMul(textEmbeds, w)) }; // [N, D] each
  });
}

export interface SyntheticRun {
  prediction: PriorPrediction;
  network: Partial<DiffusionPriorNetworkConfig>;
  trainer: Partial<PriorTrainerConfig>;
  steps: number;
}

/** Trains a small prior on 2048 synthetic pairs and evaluates its EMA weights on 256 held-out ones. */
export async function trainAndEvaluate(run: SyntheticRun): Promise<PriorEvaluation> {
  const dim = run.network.dim ?? 16;
  const train = syntheticPairs(dim, 2048, 1);
  const heldOut = syntheticPairs(dim, 256, 2);
  const prior = new DiffusionPrior(
    { prediction: run.prediction, network: { ...run.network, numTextTokens: 0 } },
    { rng: new TorchGenerator(3) },
  );
  const trainer = new PriorTrainer(prior, {
    weightDecay: 0,
    emaDecay: 0.99,
    warmupSteps: 10,
    totalSteps: run.steps,
    seed: 4,
    ...run.trainer,
  });
  try {
    const started = performance.now();
    await trainer.fit(train, { steps: run.steps });
    const trained = performance.now();
    const result = await trainer.withEmaWeights(() =>
      evaluatePrior(prior, heldOut, {
        trainImageEmbeds: train.imageEmbeds,
        generator: new TorchGenerator(5),
        sampler: 'ddim',
        steps: 20,
        samplesPerPrompt: 2,
      }),
    );
    const seconds = (from: number, to: number) => ((to - from) / 1000).toFixed(1);
    console.log(
      `${run.prediction}: prior ${result.prior.toFixed(3)}, text embedding ${result.textEmbedding.toFixed(3)}, ` +
        `mean image embedding ${result.meanImageEmbedding.toFixed(3)} ` +
        `(train ${seconds(started, trained)} s, evaluate ${seconds(trained, performance.now())} s)`,
    );
    return result;
  } finally {
    trainer.dispose();
    prior.dispose();
    disposeEmbeddingBatch(train);
    disposeEmbeddingBatch(heldOut);
  }
}
