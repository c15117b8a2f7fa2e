export {
  activationOf,
  type CLIPConfig,
  type CLIPConfigInput,
  type CLIPTextConfig,
  type CLIPVisionConfig,
  DEFAULT_TEXT_CONFIG,
  DEFAULT_VISION_CONFIG,
  hiddenActNames,
  resolveCLIPConfig,
} from './clip-config.js';
export {
  CLIPEncoder,
  type CLIPEncoderInputs,
  CLIPEncoderLayer,
  type CLIPEncoderOptions,
} from './clip-encoder.js';
export {
  CLIP_IMAGE_MEAN,
  CLIP_IMAGE_STD,
  CLIPImageProcessor,
  type CLIPImageProcessorConfig,
  type TensorPreprocessOptions,
} from './clip-image-processor.js';
export {
  type CLIPForwardInputs,
  CLIPModel,
  type CLIPModelOptions,
  type CLIPOutput,
  type CLIPTextInput,
  type EncodeOptions as CLIPEncodeOptions,
  MAX_LOGIT_SCALE,
  type ZeroShotOptions,
} from './clip-model.js';
export {
  type CLIPParityOptions,
  type CLIPParityReport,
  formatCLIPParity,
  type OutputCheck,
  runCLIPParity,
  type TokenCheck,
} from './clip-parity.js';
export { type CLIPPresetName, clipPreset, clipPresetNames } from './clip-presets.js';
export { clipStateDictKey, convertOpenAIStateDict, isOpenAIStateDict } from './clip-state-dict.js';
export { CLIPTextEmbeddings, type CLIPTextOutput, CLIPTextTransformer } from './clip-text-transformer.js';
export {
  CLIPVisionEmbeddings,
  type CLIPVisionOutput,
  CLIPVisionTransformer,
} from './clip-vision-transformer.js';
export { contrastiveLoss } from './contrastive-loss.js';
export { type LoadCLIPOptions, loadCLIP, saveCLIP } from './load-clip.js';
export {
  bicubicKernel,
  bicubicMatrix,
  bicubicTaps,
  type ResampleTaps,
  resizeBicubicUint8,
  type Uint8Image,
} from './resize-bicubic.js';
export * from './tokenizer/index.js';
export * from './training/index.js';
