import type { ShapeSpec } from './render-shape.js';
import { SHAPE_POSITIONS } from './vocabulary.js';

/** Every phrasing of a spec's caption; training draws one, evaluation can use any. */
export function captionsFor(spec: ShapeSpec): string[] {
  const { shape, colour, size, background } = spec;
  const where = SHAPE_POSITIONS[spec.position].words;
  return [
    `a ${size} ${colour} ${shape}`,
    `a ${colour} ${shape} on a ${background} background`,
    `a ${size} ${colour} ${shape} ${where}`,
    `${colour} ${shape}`,
    `a picture of a ${size} ${colour} ${shape} ${where} on a ${background} background`,
  ];
}
