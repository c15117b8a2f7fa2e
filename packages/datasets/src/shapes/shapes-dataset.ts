import { captionsFor } from './captions.js';
import { type RGBImage, renderShape, type ShapeSpec } from './render-shape.js';
import { pick, seededRandom } from './seeded-random.js';
import {
  BACKGROUND_NAMES,
  isHeldOutPair,
  SHAPE_COLOUR_NAMES,
  SHAPE_KINDS,
  SHAPE_POSITION_NAMES,
  SHAPE_SIZE_NAMES,
} from './vocabulary.js';

export interface ShapesExample {
  spec: ShapeSpec;
  caption: string;
  image: RGBImage;
}

/** `train` never contains a held-out colour/shape pair; `heldout` contains only those. */
export type ShapesSplit = 'train' | 'heldout' | 'all';
const SPLITS: readonly ShapesSplit[] = ['train', 'heldout', 'all'];

export interface ShapesDatasetOptions {
  count: number;
  /** Side of the square images in pixels (default 64). */
  imageSize?: number;
  seed?: number;
  split?: ShapesSplit;
}

/** Every spec of a split, in a fixed order. */
export function allShapeSpecs(split: ShapesSplit = 'all'): ShapeSpec[] {
  const specs: ShapeSpec[] = [];
  for (const shape of SHAPE_KINDS) {
    for (const colour of SHAPE_COLOUR_NAMES) {
      const heldOut = isHeldOutPair(colour, shape);
      if ((split === 'train' && heldOut) || (split === 'heldout' && !heldOut)) continue;
      for (const size of SHAPE_SIZE_NAMES) {
        for (const position of SHAPE_POSITION_NAMES) {
          for (const background of BACKGROUND_NAMES)
            specs.push({ shape, colour, size, position, background });
        }
      }
    }
  }
  return specs;
}

/** Draws `count` examples deterministically from `seed`: the same arguments give the same bytes. */
export function makeShapesDataset(options: ShapesDatasetOptions): ShapesExample[] {
  const { count, imageSize = 64, seed = 0, split = 'train' } = options;
  if (!Number.isInteger(count) || count < 0)
    throw new RangeError(`count must be a non-negative integer, got ${count}`);
  if (!SPLITS.includes(split))
    throw new RangeError(`split must be one of ${SPLITS.join(', ')}, got "${split}"`);
  const specs = allShapeSpecs(split);
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const spec = pick(specs, random);
    const caption = pick(captionsFor(spec), random);
    return { spec, caption, image: renderShape(spec, imageSize) };
  });
}
