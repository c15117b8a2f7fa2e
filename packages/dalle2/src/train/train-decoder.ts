import { encodePng, imagesToTensor, makeImageGrid, writeFileAtomic } from '@dalle2js/core';
import { unetPreset } from '@dalle2js/unet';
import * as tf from '@tensorflow/tfjs-core';
import { ProgressBar } from '../cli/progress-bar.js';
import { Decoder } from '../decoder/decoder.js';
import type { DecoderConfig } from '../decoder/decoder-config.js';
import { downsampleImages } from '../decoder/downsample-images.js';
import { loadPipelineComponentsIfAny } from '../pipeline/load-pipeline.js';
import { savePipelineComponents } from '../pipeline/save-pipeline.js';
import { embedExamples } from './embed-examples.js';
import { ModuleTrainer } from './module-trainer.js';
import type { TrainContext } from './train-clip.js';
import type { TrainConfig } from './train-config.js';
import { drawRows, loadTrainingExamples } from './training-data.js';
import { runTrainingLoop } from './training-loop.js';

const SAMPLES = 8;

/**
 * Trains one stage of the pipeline folder's decoder cascade (`decoder.stage`, default 0), or a new
 * stage sized to its CLIP, on images and their CLIP image embeddings. An upsampler learns from
 * its images average-pooled to the previous stage's size.
 */
export async function trainDecoder(config: TrainConfig, context: TrainContext): Promise<void> {
  const { stream, signal } = context;
  const { stage = 0, ...input } = config.decoder as Partial<DecoderConfig> & { stage?: number };
  const { clip, decoders = [] } = await loadPipelineComponentsIfAny(config.model, ['clip', 'decoders']);
  const disposeAll = () => {
    clip?.dispose();
    for (const d of decoders) d.dispose();
  };
  if (clip === undefined) {
    disposeAll();
    throw new Error(`model folder ${config.model} has no CLIP: train it first with \`dalle2 train clip\``);
  }
  if (!Number.isInteger(stage) || stage < 0 || stage > decoders.length) {
    disposeAll();
    throw new Error(
      `field "decoder.stage" must be an integer in [0, ${decoders.length}] (the folder has ${decoders.length} decoder stage(s)), got ${stage}`,
    );
  }
  let trainer: ModuleTrainer | undefined;
  let images: tf.Tensor4D | undefined;
  let embeddings: Awaited<ReturnType<typeof embedExamples>> | undefined;
  try {
    let decoder = decoders[stage];
    if (decoder === undefined) {
      const previous = decoders[stage - 1];
      const small = unetPreset('small', { imageEmbedDim: clip.config.projection_dim });
      decoder = new Decoder({
        imageSize: previous ? previous.imageSize * 2 : 32,
        ...(previous ? { lowresImageSize: previous.imageSize } : {}),
        numTrainTimesteps: 1000,
        ...input,
        unet: { ...small, ...(previous ? { lowresCond: true } : {}), ...input.unet },
      });
      decoders.push(decoder);
      stream?.write(
        `new decoder stage ${stage}: ${decoder.unet.numParameters().toLocaleString('en')} parameters, ${decoder.imageSize}px\n`,
      );
    }
    const model = decoder;
    const data = await loadTrainingExamples(config.data, model.imageSize);
    const clipData =
      clip.config.vision_config.image_size === model.imageSize
        ? data
        : await loadTrainingExamples(config.data, clip.config.vision_config.image_size);
    const withText = model.config.unet.textEmbedDim !== null;
    const bar = stream && new ProgressBar('embed with CLIP', clipData.captions.length, stream, 'pairs');
    embeddings = await embedExamples(clip, clipData.captions, clipData.images, {
      withEncodings: withText,
      onBatch: (done) => bar?.update(done),
    });
    bar?.done();
    images = imagesToTensor(data.images); // [N, S, S, 3] in [-1, 1]
    const pixels = images;
    const conditioning = embeddings;
    const count = data.captions.length;
    const batchSize = Math.min(config.batchSize, count);
    const run = new ModuleTrainer(model.unet, config, model.config);
    trainer = run;
    await runTrainingLoop({
      trainer: run,
      steps: config.steps,
      checkpointEvery: config.checkpointEvery,
      sampleEvery: config.sampleEvery,
      out: config.out,
      resume: config.resume,
      label: `train decoder ${stage}`,
      stream,
      signal,
      step: () =>
        run.trainStep((generator) =>
          tf.tidy(() => {
            const rows = tf.tensor1d(drawRows(count, generator.uniform(batchSize)), 'int32');
            const pick = <T extends tf.Tensor>(t: T) => tf.gather(t, rows) as T;
            return model.loss(
              pick(pixels),
              {
                imageEmbed: pick(conditioning.imageEmbeds),
                ...(withText
                  ? {
                      textEncodings: pick(conditioning.textEncodings!),
                      textMask: pick(conditioning.textMask!),
                    }
                  : {}),
              },
              { generator, timestepPower: config.timestepPower },
            );
          }),
        ),
      publish: () => run.withEmaWeights(() => savePipelineComponents(config.model, { decoders })),
      sample: async (step, samplesDir) => {
        // The first images (top row) and what the decoder draws from their CLIP image embeddings (bottom row).
        const n = Math.min(SAMPLES, count);
        const first = (t: tf.Tensor) => tf.slice(t, 0, n);
        const originals = first(pixels) as tf.Tensor4D;
        const embeds = first(conditioning.imageEmbeds);
        const lowres =
          model.config.lowresImageSize === null
            ? undefined
            : downsampleImages(originals, model.imageSize / model.config.lowresImageSize);
        const text = withText
          ? { textEncodings: first(conditioning.textEncodings!), textMask: first(conditioning.textMask!) }
          : {};
        try {
          const steps = model.defaultSteps('ddim');
          const drawn = await run.withEmaWeights(() =>
            model.sample(embeds, {
              sampler: 'ddim',
              steps,
              ...(lowres ? { lowresImage: lowres } : {}),
              ...text,
            }),
          );
          const both = tf.concat([originals, drawn], 0) as tf.Tensor4D;
          drawn.dispose();
          try {
            const grid = await makeImageGrid(both, { columns: n });
            const { join } = await import('node:path');
            const file = join(samplesDir, `step-${String(step).padStart(6, '0')}.png`);
            await writeFileAtomic(file, encodePng(grid));
            return { samples: file };
          } finally {
            both.dispose();
          }
        } finally {
          tf.dispose([originals, embeds, lowres, ...Object.values(text)].filter((t) => t !== undefined));
        }
      },
    });
  } finally {
    trainer?.dispose();
    images?.dispose();
    if (embeddings) tf.dispose(Object.values(embeddings));
    disposeAll();
  }
}
