export { BatchOrder } from './batch-order.js';
export { captionAttributes, captionMatchesSpec } from './caption-attributes.js';
export {
  type CLIPCheckpointState,
  type LoadedCLIPCheckpoint,
  loadCLIPCheckpoint,
  saveCLIPCheckpoint,
} from './clip-checkpoint.js';
export {
  type CLIPStepInfo,
  CLIPTrainer,
  type CLIPTrainerOptions,
  type CLIPTrainingExample,
  type CLIPTrainingSummary,
} from './clip-trainer.js';
export {
  type CLIPTrainerConfig,
  DEFAULT_CLIP_TRAINER_CONFIG,
  resolveCLIPTrainerConfig,
} from './clip-trainer-config.js';
export {
  type EvaluateRetrievalOptions,
  evaluateRetrieval,
  type ShapesRetrievalExample,
} from './evaluate-retrieval.js';
export { multiPositiveContrastiveLoss } from './multi-positive-contrastive-loss.js';
export { formatDuration, ProgressBar, type ProgressBarOptions, type ProgressStream } from './progress-bar.js';
export {
  type RetrievalAccuracy,
  type RetrievalAccuracyOptions,
  retrievalAccuracy,
} from './retrieval-accuracy.js';
export { SHAPES_IMAGE_SIZE, shapesCLIPConfig, shapesTokenizer } from './shapes-clip-config.js';
