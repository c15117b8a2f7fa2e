import { tensorToImages } from '@dalle2js/core';
import {
  classifyShapeImage,
  isHeldOutPair,
  SHAPE_COLOUR_NAMES,
  SHAPE_KINDS,
  type ShapeColour,
  type ShapeKind,
} from '@dalle2js/datasets';
import type { Dalle2 } from '../pipeline/dalle2.js';
import type { GenerateOptions } from '../pipeline/generate-options.js';

/** How many generated images show what their prompts asked for. */
export interface ShapesScore {
  images: number;
  /** Both the colour and the shape match. */
  matched: number;
  colourMatched: number;
  shapeMatched: number;
  /** matched / images (NaN for no images). */
  rate: number;
}

export interface ShapesPromptResult extends Omit<ShapesScore, 'rate'> {
  prompt: string;
  colour: ShapeColour;
  shape: ShapeKind;
  heldOut: boolean;
}

export interface ShapesEvaluation {
  /** Colour/shape pairs the shapes training split contains. */
  seen: ShapesScore;
  /** `HELD_OUT_PAIRS`, which the training split never shows together. */
  heldOut: ShapesScore;
  prompts: ShapesPromptResult[];
}

export interface EvaluateShapesOptions extends Omit<GenerateOptions, 'onProgress'> {
  /** Prompts generated in one batch. Default 6. */
  promptsPerBatch?: number;
  /** Called after each batch with (prompts done, prompts in all). */
  onBatch?: (done: number, total: number) => void;
  onProgress?: GenerateOptions['onProgress'];
}

/** 'a red circle', ... for every colour and shape of the shapes data set. */
export function shapesPrompts(): { prompt: string; colour: ShapeColour; shape: ShapeKind }[] {
  return SHAPE_COLOUR_NAMES.flatMap((colour) =>
    SHAPE_KINDS.map((shape) => ({ prompt: `a ${colour} ${shape}`, colour, shape })),
  );
}

/**
 * Generates `imagesPerPrompt` images for 'a <colour> <shape>' for every colour and shape, and
 * judges each with `classifyShapeImage`: the share whose dominant colour and shape match the
 * prompt, separately for the held-out pairs. Chance is 1/24 for both.
 */
export async function evaluateShapes(
  pipeline: Dalle2,
  options: EvaluateShapesOptions = {},
): Promise<ShapesEvaluation> {
  const { promptsPerBatch = 6, onBatch, ...generateOptions } = options;
  if (!Number.isInteger(promptsPerBatch) || promptsPerBatch < 1) {
    throw new Error(`promptsPerBatch must be a positive integer, got ${promptsPerBatch}`);
  }
  const perPrompt = generateOptions.imagesPerPrompt ?? 1;
  const all = shapesPrompts();
  const results: ShapesPromptResult[] = [];
  for (let start = 0; start < all.length; start += promptsPerBatch) {
    const batch = all.slice(start, start + promptsPerBatch);
    // Each batch draws from its own seed, so a batch's images do not depend on the batch size before it.
    const seed =
      generateOptions.seed === undefined ? undefined : BigInt(generateOptions.seed) + BigInt(start);
    const { images } = await pipeline.generate(
      batch.map((p) => p.prompt),
      { ...generateOptions, ...(seed === undefined ? {} : { seed }) },
    );
    let raw: Awaited<ReturnType<typeof tensorToImages>>;
    try {
      raw = await tensorToImages(images);
    } finally {
      images.dispose();
    }
    for (const [p, entry] of batch.entries()) {
      const result: ShapesPromptResult = {
        ...entry,
        heldOut: isHeldOutPair(entry.colour, entry.shape),
        images: 0,
        matched: 0,
        colourMatched: 0,
        shapeMatched: 0,
      };
      for (const image of raw.slice(p * perPrompt, (p + 1) * perPrompt)) {
        const judged = classifyShapeImage(image);
        const colour = judged.colour === entry.colour;
        const shape = judged.shape === entry.shape;
        result.images += 1;
        result.colourMatched += Number(colour);
        result.shapeMatched += Number(shape);
        result.matched += Number(colour && shape);
      }
      results.push(result);
    }
    onBatch?.(Math.min(start + promptsPerBatch, all.length), all.length);
  }
  return {
    seen: score(results.filter((r) => !r.heldOut)),
    heldOut: score(results.filter((r) => r.heldOut)),
    prompts: results,
  };
}

function score(results: readonly ShapesPromptResult[]): ShapesScore {
  const sum = (key: 'images' | 'matched' | 'colourMatched' | 'shapeMatched') =>
    results.reduce((total, r) => total + r[key], 0);
  const images = sum('images');
  const matched = sum('matched');
  return {
    images,
    matched,
    colourMatched: sum('colourMatched'),
    shapeMatched: sum('shapeMatched'),
    rate: images === 0 ? Number.NaN : matched / images,
  };
}
