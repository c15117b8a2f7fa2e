import { DiffusionPrior, type DiffusionPriorConfig, evaluatePrior, PriorTrainer } from '@dalle2js/prior';
import * as tf from '@tensorflow/tfjs-core';
import { ProgressBar } from '../cli/progress-bar.js';
import { loadPipelineComponentsIfAny } from '../pipeline/load-pipeline.js';
import { savePipelineComponents } from '../pipeline/save-pipeline.js';
import { embedExamples } from './embed-examples.js';
import type { TrainContext } from './train-clip.js';
import type { TrainConfig } from './train-config.js';
import { loadTrainingExamples } from './training-data.js';
import { runTrainingLoop } from './training-loop.js';

/**
 * Trains the pipeline folder's prior (or a new one sized to its CLIP) with the prior package's
 * `PriorTrainer` on the CLIP embeddings of the data.
 */
export async function trainPrior(config: TrainConfig, context: TrainContext): Promise<void> {
  const { stream, signal } = context;
  const { clip, prior: existing } = await loadPipelineComponentsIfAny(config.model, ['clip', 'prior']);
  if (clip === undefined) {
    existing?.dispose();
    throw new Error(`model folder ${config.model} has no CLIP: train it first with \`dalle2 train clip\``);
  }
  let prior = existing;
  let embeddings: Awaited<ReturnType<typeof embedExamples>> | undefined;
  let trainer: PriorTrainer | undefined;
  try {
    if (prior === undefined) {
      const input = config.prior as Partial<DiffusionPriorConfig>;
      const { text_config } = clip.config;
      prior = new DiffusionPrior({
        numTrainTimesteps: 100,
        ...input,
        network: {
          dim: clip.config.projection_dim,
          textEncodingDim: text_config.hidden_size,
          numTextTokens: text_config.max_position_embeddings,
          depth: 4,
          heads: 4,
          ...input.network,
        },
      });
    }
    const data = await loadTrainingExamples(config.data, clip.config.vision_config.image_size);
    const withEncodings = prior.config.network.numTextTokens > 0;
    const bar = stream && new ProgressBar('embed with CLIP', data.captions.length, stream, 'pairs');
    embeddings = await embedExamples(clip, data.captions, data.images, {
      withEncodings,
      onBatch: (done) => bar?.update(done),
    });
    bar?.done();
    const { lr, betas, weightDecay, emaDecay, maxGradNorm, warmupSteps, totalSteps, batchSize, seed } =
      config;
    trainer = new PriorTrainer(prior, {
      lr,
      betas,
      weightDecay,
      emaDecay,
      maxGradNorm,
      warmupSteps,
      totalSteps,
      batchSize,
      seed,
    });
    const model = prior;
    const run = trainer;
    const batch = embeddings;
    const probe = Math.min(64, data.captions.length);
    await runTrainingLoop({
      trainer: run,
      steps: config.steps,
      checkpointEvery: config.checkpointEvery,
      sampleEvery: config.sampleEvery,
      out: config.out,
      resume: config.resume,
      label: 'train prior',
      stream,
      signal,
      step: async () => {
        const last = await run.fit(batch, { steps: 1 });
        return last!;
      },
      publish: () => run.withEmaWeights(() => savePipelineComponents(config.model, { prior: model })),
      sample: async () => {
        // Cosine similarity of sampled image embeddings to the true ones, against two baselines.
        const rows = (t: tf.Tensor | undefined) => (t === undefined ? undefined : tf.slice(t, 0, probe));
        const heldOut = {
          textEmbeds: rows(batch.textEmbeds)!,
          imageEmbeds: rows(batch.imageEmbeds)!,
          ...(batch.textEncodings
            ? { textEncodings: rows(batch.textEncodings)!, textMask: rows(batch.textMask)! }
            : {}),
        };
        try {
          const result = await run.withEmaWeights(() =>
            evaluatePrior(model, heldOut, { trainImageEmbeds: batch.imageEmbeds, sampler: 'ddim' }),
          );
          return {
            cosine: result.prior,
            textBaseline: result.textEmbedding,
            meanBaseline: result.meanImageEmbedding,
          };
        } finally {
          tf.dispose(Object.values(heldOut));
        }
      },
    });
  } finally {
    trainer?.dispose();
    if (embeddings) tf.dispose(Object.values(embeddings));
    prior?.dispose();
    clip.dispose();
  }
}
