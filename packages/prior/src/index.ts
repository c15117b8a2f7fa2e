export type {
  DiffusionPriorConfig,
  PriorConditioning,
  PriorLossOptions,
  PriorPrediction,
  PriorSampleOptions,
  PriorSampler,
  ResolvedDiffusionPriorConfig,
} from './diffusion-prior.js';
export {
  DiffusionPrior,
  defaultDiffusionPriorConfig,
  PRIOR_PREDICTIONS,
  PRIOR_SAMPLERS,
  resolveDiffusionPriorConfig,
} from './diffusion-prior.js';
export type { DiffusionPriorNetworkConfig, DiffusionPriorNetworkInputs } from './diffusion-prior-network.js';
export {
  DiffusionPriorNetwork,
  defaultDiffusionPriorNetworkConfig,
  resolveDiffusionPriorNetworkConfig,
} from './diffusion-prior-network.js';
export type { EmbeddingBatch, EmbeddingBatchShape } from './embedding-batch.js';
export { checkEmbeddingBatch, disposeEmbeddingBatch, gatherEmbeddingBatch } from './embedding-batch.js';
export type {
  EmbeddingShardDtype,
  EmbeddingShardIndex,
  WriteEmbeddingShardsOptions,
} from './embedding-shards.js';
export { readEmbeddingShardIndex, readEmbeddingShards, writeEmbeddingShards } from './embedding-shards.js';
export type { EvaluatePriorOptions, PriorEvaluation } from './evaluate-prior.js';
export { evaluatePrior } from './evaluate-prior.js';
export type { PriorPresetName } from './prior-presets.js';
export { priorPreset, priorPresetNames } from './prior-presets.js';
export type {
  PriorFitOptions,
  PriorTrainerConfig,
  PriorTrainingProgress,
} from './prior-trainer.js';
export {
  defaultPriorTrainerConfig,
  PriorTrainer,
  resolvePriorTrainerConfig,
} from './prior-trainer.js';
