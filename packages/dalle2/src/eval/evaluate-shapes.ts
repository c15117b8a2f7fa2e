import type { CLIPModel } from '@dalle2js/clip';
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
import { CLIPRetrieval } from './clip-retrieval.js';

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

/** How many generated images the evaluation CLIP matched to their own prompt among all 24. */
export interface ShapesRetrievalScore {
  images: number;
  /** The most similar prompt is the image's own. */
  retrieved: number;
  /** The most similar prompt names the image's colour (its shape may differ). */
  colourRetrieved: number;
  /** The most similar prompt names the image's shape. */
  shapeRetrieved: number;
  /** retrieved / images: precision@1 (NaN for no images). */
  precision: number;
}

/** Retrieval precision of the generated images under an evaluation CLIP. */
export interface ShapesRetrieval {
  /** All 24 prompts. */
  all: ShapesRetrievalScore;
  seen: ShapesRetrievalScore;
  heldOut: ShapesRetrievalScore;
  /** 1/24: a prompt picked at random. */
  chance: number;
}

export interface ShapesPromptResult extends Omit<ShapesScore, 'rate'> {
  prompt: string;
  colour: ShapeColour;
  shape: ShapeKind;
  heldOut: boolean;
  /** With `evalClip`: this prompt's images judged by retrieval. */
  retrieval?: Omit<ShapesRetrievalScore, 'images' | 'precision'>;
}

export interface ShapesEvaluation {
  /** Colour/shape pairs the shapes training split contains. */
  seen: ShapesScore;
  /** `HELD_OUT_PAIRS`, which the training split never shows together. */
  heldOut: ShapesScore;
  prompts: ShapesPromptResult[];
  /** With `evalClip`: retrieval precision of the same images. */
  retrieval?: ShapesRetrieval;
}

export interface EvaluateShapesOptions extends Omit<GenerateOptions, 'onProgress'> {
  /** Prompts generated in one batch. Default 6. */
  promptsPerBatch?: number;
  /** Called after each batch with (prompts done, prompts in all). */
  onBatch?: (done: number, total: number) => void;
  onProgress?: GenerateOptions['onProgress'];
  /**
   * A CLIP trained apart from the pipeline's (such as `models/eval-clip`): each image also counts
   * as retrieved when its own prompt is the most similar of the 24 under this CLIP.
   */
  evalClip?: CLIPModel;
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
 * prompt, separately for the held-out pairs. With `evalClip` the same images are also judged by
 * retrieval: the share whose own prompt is the most similar of the 24 under that CLIP. Chance is
 * 1/24 for both.
 */
export async function evaluateShapes(
  pipeline: Dalle2,
  options: EvaluateShapesOptions = {},
): Promise<ShapesEvaluation> {
  const { promptsPerBatch = 6, onBatch, evalClip, ...generateOptions } = options;
  if (!Number.isInteger(promptsPerBatch) || promptsPerBatch < 1) {
    throw new Error(`promptsPerBatch must be a positive integer, got ${promptsPerBatch}`);
  }
  const perPrompt = generateOptions.imagesPerPrompt ?? 1;
  const all = shapesPrompts();
  const results: ShapesPromptResult[] = [];
  // Embeds the prompts before any image is generated, so a CLIP without a tokenizer fails at once.
  const retrieval =
    evalClip &&
    new CLIPRetrieval(
      evalClip,
      all.map((p) => p.prompt),
    );
  try {
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
      // The index among all 24 prompts of the one most similar to each image.
      const best = retrieval && (await retrieval.retrieve(raw));
      for (const [p, entry] of batch.entries()) {
        const result: ShapesPromptResult = {
          ...entry,
          heldOut: isHeldOutPair(entry.colour, entry.shape),
          images: 0,
          matched: 0,
          colourMatched: 0,
          shapeMatched: 0,
          ...(best && { retrieval: { retrieved: 0, colourRetrieved: 0, shapeRetrieved: 0 } }),
        };
        for (let i = p * perPrompt; i < Math.min((p + 1) * perPrompt, raw.length); i++) {
          const judged = classifyShapeImage(raw[i]!);
          const colour = judged.colour === entry.colour;
          const shape = judged.shape === entry.shape;
          result.images += 1;
          result.colourMatched += Number(colour);
          result.shapeMatched += Number(shape);
          result.matched += Number(colour && shape);
          if (best && result.retrieval) {
            const picked = best[i]!;
            result.retrieval.retrieved += Number(picked === start + p);
            result.retrieval.colourRetrieved += Number(all[picked]!.colour === entry.colour);
            result.retrieval.shapeRetrieved += Number(all[picked]!.shape === entry.shape);
          }
        }
        results.push(result);
      }
      onBatch?.(Math.min(start + promptsPerBatch, all.length), all.length);
    }
  } finally {
    retrieval?.dispose();
  }
  const seen = results.filter((r) => !r.heldOut);
  const heldOut = results.filter((r) => r.heldOut);
  return {
    seen: score(seen),
    heldOut: score(heldOut),
    prompts: results,
    ...(evalClip && {
      retrieval: {
        all: retrievalScore(results),
        seen: retrievalScore(seen),
        heldOut: retrievalScore(heldOut),
        chance: 1 / all.length,
      },
    }),
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

function retrievalScore(results: readonly ShapesPromptResult[]): ShapesRetrievalScore {
  const sum = (key: 'retrieved' | 'colourRetrieved' | 'shapeRetrieved') =>
    results.reduce((total, r) => total + (r.retrieval?.[key] ?? 0), 0);
  const images = results.reduce((total, r) => total + r.images, 0);
  const retrieved = sum('retrieved');
  return {
    images,
    retrieved,
    colourRetrieved: sum('colourRetrieved'),
    shapeRetrieved: sum('shapeRetrieved'),
    precision: images === 0 ? Number.NaN : retrieved / images,
  };
}
