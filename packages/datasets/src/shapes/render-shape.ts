import {
  BACKGROUNDS,
  type Background,
  SHAPE_COLOURS,
  SHAPE_POSITIONS,
  SHAPE_SIZES,
  type ShapeColour,
  type ShapeKind,
  type ShapePosition,
  type ShapeSize,
} from './vocabulary.js';

export interface ShapeSpec {
  shape: ShapeKind;
  colour: ShapeColour;
  size: ShapeSize;
  position: ShapePosition;
  background: Background;
}

/** An 8-bit RGB image, rows top to bottom, `data.length = width * height * 3`. */
export interface RGBImage {
  width: number;
  height: number;
  data: Uint8Array;
}

const SUBSAMPLES = 4; // per axis: 16 samples per pixel give smooth edges at 16x16

/** Renders one shape, anti-aliased, on a plain background. */
export function renderShape(spec: ShapeSpec, imageSize: number): RGBImage {
  if (!Number.isInteger(imageSize) || imageSize < 8) {
    throw new RangeError(`imageSize must be an integer >= 8, got ${imageSize}`);
  }
  const background = BACKGROUNDS[spec.background];
  const colour = SHAPE_COLOURS[spec.colour];
  const { x: cx, y: cy } = SHAPE_POSITIONS[spec.position];
  const radius = SHAPE_SIZES[spec.size];
  const inside = insideTest(spec.shape);
  const data = new Uint8Array(imageSize * imageSize * 3);
  for (let row = 0; row < imageSize; row++) {
    for (let col = 0; col < imageSize; col++) {
      let covered = 0;
      for (let sy = 0; sy < SUBSAMPLES; sy++) {
        for (let sx = 0; sx < SUBSAMPLES; sx++) {
          // Coordinates relative to the shape's centre, in units of its radius.
          const u = ((col + (sx + 0.5) / SUBSAMPLES) / imageSize - cx) / radius;
          const v = ((row + (sy + 0.5) / SUBSAMPLES) / imageSize - cy) / radius;
          if (inside(u, v)) covered++;
        }
      }
      const alpha = covered / (SUBSAMPLES * SUBSAMPLES);
      const offset = (row * imageSize + col) * 3;
      for (let channel = 0; channel < 3; channel++) {
        data[offset + channel] = Math.round(alpha * colour[channel]! + (1 - alpha) * background[channel]!);
      }
    }
  }
  return { width: imageSize, height: imageSize, data };
}

/** Each shape fits the square [-1, 1]^2 around its centre (v grows downwards). */
function insideTest(shape: ShapeKind): (u: number, v: number) => boolean {
  switch (shape) {
    case 'circle':
      return (u, v) => u * u + v * v <= 1;
    case 'square':
      return (u, v) => Math.abs(u) <= 0.85 && Math.abs(v) <= 0.85;
    case 'triangle':
      // Apex at the top, base at the bottom.
      return (u, v) => v <= 0.85 && v >= -0.95 && Math.abs(u) <= (v + 0.95) / 1.8;
    case 'cross':
      return (u, v) =>
        (Math.abs(u) <= 0.3 && Math.abs(v) <= 0.95) || (Math.abs(v) <= 0.3 && Math.abs(u) <= 0.95);
  }
}
