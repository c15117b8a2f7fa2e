export { captionsFor } from './captions.js';
export type { ShapeJudgement } from './classify-shape-image.js';
export { classifyShapeImage } from './classify-shape-image.js';
export type { RGBImage, ShapeSpec } from './render-shape.js';
export { renderShape } from './render-shape.js';
export type { ShapesDatasetOptions, ShapesExample, ShapesSplit } from './shapes-dataset.js';
export { allShapeSpecs, makeShapesDataset } from './shapes-dataset.js';
export type { Background, ShapeColour, ShapeKind, ShapePosition, ShapeSize } from './vocabulary.js';
export {
  BACKGROUND_NAMES,
  BACKGROUNDS,
  HELD_OUT_PAIRS,
  isHeldOutPair,
  SHAPE_COLOUR_NAMES,
  SHAPE_COLOURS,
  SHAPE_KINDS,
  SHAPE_POSITION_NAMES,
  SHAPE_POSITIONS,
  SHAPE_SIZE_NAMES,
  SHAPE_SIZES,
} from './vocabulary.js';
