import { type CLIPConfigInput, CLIPModel, CLIPTokenizer, contrastiveLoss, trainBPE } from '@dalle2js/clip';
import { TorchGenerator } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import type { ProgressStream } from '../cli/progress-bar.js';
import { loadPipelineComponentsIfAny } from '../pipeline/load-pipeline.js';
import { savePipelineComponents } from '../pipeline/save-pipeline.js';
import { ModuleTrainer } from './module-trainer.js';
import type { TrainConfig } from './train-config.js';
import { drawRows, loadTrainingExamples } from './training-data.js';
import { runTrainingLoop } from './training-loop.js';

export interface TrainContext {
  stream?: ProgressStream;
  signal?: AbortSignal;
}

/** A new CLIP's sizes when the config gives none: small towers for 64 px images and short captions. */
export const NEW_CLIP_DEFAULTS: CLIPConfigInput = {
  text_config: {
    hidden_size: 128,
    intermediate_size: 512,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    max_position_embeddings: 32,
  },
  vision_config: {
    hidden_size: 128,
    intermediate_size: 512,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    image_size: 64,
    patch_size: 8,
  },
  projection_dim: 128,
};

/**
 * Trains the pipeline folder's CLIP contrastively on caption/image pairs, or a new one (with a BPE
 * vocabulary learned from the captions) when the folder has none.
 */
export async function trainClip(config: TrainConfig, context: TrainContext): Promise<void> {
  const { stream, signal } = context;
  const existing = await loadPipelineComponentsIfAny(config.model, ['clip']);
  const { vocabSize = 1000, ...clipInput } = config.clip as CLIPConfigInput & { vocabSize?: number };
  let clip = existing.clip;
  const imageSize =
    clip?.config.vision_config.image_size ??
    (clipInput.vision_config?.image_size as number | undefined) ??
    NEW_CLIP_DEFAULTS.vision_config!.image_size!;
  const data = await loadTrainingExamples(config.data, imageSize);
  if (clip === undefined) {
    const tokenizer = new CLIPTokenizer(trainBPE(data.captions, { vocabSize }));
    const text = { ...NEW_CLIP_DEFAULTS.text_config, ...clipInput.text_config };
    clip = new CLIPModel(
      {
        ...NEW_CLIP_DEFAULTS,
        ...clipInput,
        text_config: {
          ...text,
          vocab_size: tokenizer.vocabSize,
          eos_token_id: tokenizer.endId,
          bos_token_id: tokenizer.startId,
          pad_token_id: tokenizer.endId,
        },
        vision_config: { ...NEW_CLIP_DEFAULTS.vision_config, ...clipInput.vision_config },
      },
      { rng: new TorchGenerator(config.seed), tokenizer },
    );
    stream?.write(
      `new CLIP: ${clip.numParameters().toLocaleString('en')} parameters, vocabulary of ${tokenizer.vocabSize}\n`,
    );
  }
  const model = clip;
  const trainer = new ModuleTrainer(model, config, model.config);
  const count = data.captions.length;
  const batchSize = Math.min(config.batchSize, count);
  const probe = Array.from({ length: Math.min(64, count) }, (_, i) => i);
  try {
    await runTrainingLoop({
      trainer,
      steps: config.steps,
      checkpointEvery: config.checkpointEvery,
      sampleEvery: config.sampleEvery,
      out: config.out,
      resume: config.resume,
      label: 'train clip',
      stream,
      signal,
      step: () =>
        trainer.trainStep((generator) => {
          const rows = [...drawRows(count, generator.uniform(batchSize))];
          const images = model.imageProcessor.preprocessImages(rows.map((r) => data.images[r]!));
          try {
            return tf.tidy(() => {
              const out = model.forward({ text: rows.map((r) => data.captions[r]!), images });
              return contrastiveLoss(out.logitsPerText);
            });
          } finally {
            images.dispose();
          }
        }),
      publish: () => trainer.withEmaWeights(() => savePipelineComponents(config.model, { clip: model })),
      sample: async () => {
        // Retrieval on the first pairs: how often each caption's best image is its own.
        const accuracy = await trainer.withEmaWeights(async () => {
          const images = model.imageProcessor.preprocessImages(probe.map((r) => data.images[r]!));
          const hits = tf.tidy(() => {
            const similarity = model.similarity(
              probe.map((r) => data.captions[r]!),
              images,
            ); // [P, P]
            return tf.sum(
              tf.cast(tf.equal(tf.argMax(similarity, 1), tf.range(0, probe.length, 1, 'int32')), 'float32'),
            );
          });
          images.dispose();
          const value = (await hits.data())[0]!;
          hits.dispose();
          return value / probe.length;
        });
        return { retrievalAccuracy: accuracy, probe: probe.length };
      },
    });
  } finally {
    trainer.dispose();
    model.dispose();
  }
}
