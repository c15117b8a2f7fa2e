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
