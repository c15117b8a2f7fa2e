/** The attributes a synthetic shapes image is made of; captions name them with these words. */
export const SHAPE_KINDS = ['circle', 'square', 'triangle', 'cross'] as const;
export type ShapeKind = (typeof SHAPE_KINDS)[number];

export const SHAPE_COLOURS = {
  red: [220, 40, 40],
  green: [40, 180, 60],
  blue: [40, 80, 220],
  yellow: [235, 215, 40],
  purple: [150, 60, 190],
  orange: [245, 140, 30],
} as const satisfies Record<string, readonly [number, number, number]>;
export type ShapeColour = keyof typeof SHAPE_COLOURS;
export const SHAPE_COLOUR_NAMES = Object.keys(SHAPE_COLOURS) as ShapeColour[];

/** Neutral backgrounds only, so the shape's colour is always the dominant non-background colour. */
export const BACKGROUNDS = {
  black: [15, 15, 15],
  white: [245, 245, 245],
  gray: [128, 128, 128],
} as const satisfies Record<string, readonly [number, number, number]>;
export type Background = keyof typeof BACKGROUNDS;
export const BACKGROUND_NAMES = Object.keys(BACKGROUNDS) as Background[];

export const SHAPE_SIZES = { small: 0.2, large: 0.34 } as const;
export type ShapeSize = keyof typeof SHAPE_SIZES;
export const SHAPE_SIZE_NAMES = Object.keys(SHAPE_SIZES) as ShapeSize[];

/** Centre of the shape as a fraction of the image side, and how captions say it. */
export const SHAPE_POSITIONS = {
  center: { x: 0.5, y: 0.5, words: 'in the center' },
  left: { x: 0.32, y: 0.5, words: 'on the left' },
  right: { x: 0.68, y: 0.5, words: 'on the right' },
  top: { x: 0.5, y: 0.32, words: 'at the top' },
  bottom: { x: 0.5, y: 0.68, words: 'at the bottom' },
} as const;
export type ShapePosition = keyof typeof SHAPE_POSITIONS;
export const SHAPE_POSITION_NAMES = Object.keys(SHAPE_POSITIONS) as ShapePosition[];

/**
 * Colour/shape pairs never shown in training, to test whether a model composes attributes it has
 * only seen apart. Each colour and each shape still appears in training with other partners.
 */
export const HELD_OUT_PAIRS: readonly (readonly [ShapeColour, ShapeKind])[] = [
  ['red', 'triangle'],
  ['blue', 'circle'],
  ['yellow', 'square'],
  ['purple', 'cross'],
];

export function isHeldOutPair(colour: ShapeColour, shape: ShapeKind): boolean {
  return HELD_OUT_PAIRS.some(([c, s]) => c === colour && s === shape);
}
