export type {
  DecoderConditioning,
  DecoderLossOptions,
  DecoderSampleOptions,
  DecoderSampler,
} from './decoder/decoder.js';
export { DECODER_SAMPLERS, Decoder } from './decoder/decoder.js';
export type {
  DecoderBetaSchedule,
  DecoderConfig,
  DecoderPrediction,
  ResolvedDecoderConfig,
} from './decoder/decoder-config.js';
export {
  DECODER_BETA_SCHEDULES,
  DECODER_PREDICTIONS,
  defaultDecoderConfig,
  resolveDecoderConfig,
} from './decoder/decoder-config.js';
export { downsampleImages } from './decoder/downsample-images.js';
export { checkComponents } from './pipeline/check-components.js';
export type { Dalle2Components, Dalle2ImageInput, Dalle2Images } from './pipeline/dalle2.js';
export { Dalle2 } from './pipeline/dalle2.js';
export type {
  Dalle2Sampler,
  Dalle2Stage,
  GenerateOptions,
  SamplingDefaults,
} from './pipeline/generate-options.js';
export {
  DALLE2_SAMPLERS,
  resolveGenerateOptions,
  SAMPLING_DEFAULT_KEYS,
} from './pipeline/generate-options.js';
export type { LoadedComponents, PipelineComponentName } from './pipeline/load-pipeline.js';
export { loadDalle2, loadPipelineComponents, loadPipelineComponentsIfAny } from './pipeline/load-pipeline.js';
export { DALLE2JS_PACKAGES, packageVersions } from './pipeline/package-versions.js';
export type { ComponentEntry, PipelineConfig } from './pipeline/pipeline-config.js';
export { readPipelineConfig } from './pipeline/pipeline-config.js';
export type { PipelineComponents } from './pipeline/save-pipeline.js';
export { saveDalle2, savePipelineComponents } from './pipeline/save-pipeline.js';
export type { EncodePromptsOptions, TextConditioning } from './pipeline/text-conditioning.js';
export { checkPrompts, encodePrompts } from './pipeline/text-conditioning.js';
export { tinyDalle2 } from './pipeline/tiny-dalle2.js';
