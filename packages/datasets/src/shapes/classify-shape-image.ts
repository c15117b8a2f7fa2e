import type { RGBImage } from './render-shape.js';
import { SHAPE_COLOURS, type ShapeColour, type ShapeKind } from './vocabulary.js';

export interface ShapeJudgement {
  /** The named colour nearest to the mean foreground colour, or null when no foreground is found. */
  colour: ShapeColour | null;
  shape: ShapeKind | null;
  /** Share of pixels judged foreground. */
  coverage: number;
}

const FOREGROUND_DISTANCE = 60; // RGB distance from the background that counts as "shape"

/**
 * A pixel-based judge of what an image shows, used to score generated images against their
 * prompts. It reads the background off the border, takes the rest as the shape, names the
 * nearest colour and tells shapes apart by how they fill their bounding box.
 */
export function classifyShapeImage(image: RGBImage): ShapeJudgement {
  const { width, height, data } = image;
  const pixelAt = (index: number) => [data[index * 3]!, data[index * 3 + 1]!, data[index * 3 + 2]!];
  const background = borderMedian(image);
  const sum = [0, 0, 0];
  let count = 0;
  for (let index = 0; index < width * height; index++) {
    const pixel = pixelAt(index);
    if (distance(pixel, background) < FOREGROUND_DISTANCE) continue;
    for (let channel = 0; channel < 3; channel++) sum[channel]! += pixel[channel]!;
    count++;
  }
  const coverage = count / (width * height);
  if (count < 4) return { colour: null, shape: null, coverage };
  const foreground = sum.map((s) => s / count);
  // Soft coverage: how far each pixel lies from the background towards the shape's colour, so
  // anti-aliased edges count fractionally and small shapes keep their true area.
  const span = foreground.map((f, channel) => f - background[channel]!);
  const spanSquared = span.reduce((total, s) => total + s * s, 0);
  const alpha = new Float32Array(width * height);
  let minRow = height;
  let maxRow = -1;
  let minCol = width;
  let maxCol = -1;
  for (let index = 0; index < width * height; index++) {
    const pixel = pixelAt(index);
    const projection = pixel.reduce(
      (total, p, channel) => total + (p - background[channel]!) * span[channel]!,
      0,
    );
    alpha[index] = Math.min(1, Math.max(0, projection / spanSquared));
    if (alpha[index]! < 0.5) continue;
    const row = Math.floor(index / width);
    const col = index % width;
    minRow = Math.min(minRow, row);
    maxRow = Math.max(maxRow, row);
    minCol = Math.min(minCol, col);
    maxCol = Math.max(maxCol, col);
  }
  const colour = nearestColour(foreground);
  if (maxRow < 0) return { colour, shape: null, coverage };
  const boxHeight = maxRow - minRow + 1;
  const boxWidth = maxCol - minCol + 1;
  // The box's sides are measured softly too (widest row, tallest column), so partly covered edge
  // pixels do not make a small square look less full than it is.
  let area = 0;
  let softWidth = 0;
  const columnSums = new Float32Array(boxWidth);
  for (let row = minRow; row <= maxRow; row++) {
    let rowSum = 0;
    for (let col = minCol; col <= maxCol; col++) {
      const a = alpha[row * width + col]!;
      rowSum += a;
      columnSums[col - minCol]! += a;
    }
    area += rowSum;
    softWidth = Math.max(softWidth, rowSum);
  }
  const softHeight = Math.max(...columnSums);
  const rowWidth = (fraction: number) => {
    const row = minRow + Math.min(boxHeight - 1, Math.floor(fraction * boxHeight));
    let filled = 0;
    for (let col = minCol; col <= maxCol; col++) filled += alpha[row * width + col]!;
    return filled / boxWidth;
  };
  return {
    colour,
    shape: shapeFromProfile(area / (softWidth * softHeight), rowWidth(0.2), rowWidth(0.8)),
    coverage,
  };
}

function shapeFromProfile(fill: number, topWidth: number, bottomWidth: number): ShapeKind {
  if (fill >= 0.9) return 'square';
  if (fill >= 0.68) return 'circle';
  // A triangle is narrow at the top and wide at the bottom; a cross is narrow at both.
  return topWidth < 0.7 * bottomWidth ? 'triangle' : 'cross';
}

function borderMedian(image: RGBImage): number[] {
  const { width, height, data } = image;
  const channels: number[][] = [[], [], []];
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      if (row !== 0 && col !== 0 && row !== height - 1 && col !== width - 1) continue;
      const offset = (row * width + col) * 3;
      for (let channel = 0; channel < 3; channel++) channels[channel]!.push(data[offset + channel]!);
    }
  }
  return channels.map((values) => {
    values.sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)]!;
  });
}

function nearestColour(rgb: number[]): ShapeColour {
  let best: ShapeColour = 'red';
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const [name, reference] of Object.entries(SHAPE_COLOURS)) {
    const d = distance(rgb, reference);
    if (d < bestDistance) {
      bestDistance = d;
      best = name as ShapeColour;
    }
  }
  return best;
}

function distance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
}
