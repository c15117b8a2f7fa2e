import {
  BACKGROUND_NAMES,
  SHAPE_COLOUR_NAMES,
  SHAPE_KINDS,
  SHAPE_POSITION_NAMES,
  SHAPE_POSITIONS,
  SHAPE_SIZE_NAMES,
  type ShapeSpec,
} from '@dalle2js/datasets';

/**
 * The attributes of a synthetic-shapes caption names: colour and shape always, size, position
 * ("on the left") and background ("on a gray background") when it mentions them. Throws when a
 * caption names two values of one attribute or names no colour and no shape.
 */
export function captionAttributes(caption: string): Partial<ShapeSpec> {
  if (typeof caption !== 'string')
    throw new TypeError(`captionAttributes: expected a string, got ${typeof caption}`);
  let text = ` ${caption.toLowerCase().replace(/\s+/g, ' ').trim()} `;
  const found: Partial<ShapeSpec> = {};
  const take = <K extends keyof ShapeSpec>(
    key: K,
    values: readonly ShapeSpec[K][],
    phrase: (value: ShapeSpec[K]) => string,
  ) => {
    const named = values.filter((value) => text.includes(` ${phrase(value)} `));
    if (named.length > 1)
      throw new Error(`captionAttributes: "${caption}" names ${key} ${named.join(' and ')}`);
    if (named.length === 1) {
      found[key] = named[0]!;
      // Taken words are removed so that no later attribute reads them again.
      text = text.replace(` ${phrase(named[0]!)} `, ' ');
    }
  };
  take('background', BACKGROUND_NAMES, (background) => `on a ${background} background`);
  take('position', SHAPE_POSITION_NAMES, (position) => SHAPE_POSITIONS[position].words);
  take('size', SHAPE_SIZE_NAMES, (size) => size);
  take('colour', SHAPE_COLOUR_NAMES, (colour) => colour);
  take('shape', SHAPE_KINDS, (shape) => shape);
  if (found.colour === undefined && found.shape === undefined) {
    throw new Error(`captionAttributes: "${caption}" names no shape colour or kind`);
  }
  return found;
}

/** True when `spec` has every attribute the caption names. */
export function captionMatchesSpec(caption: string | Partial<ShapeSpec>, spec: ShapeSpec): boolean {
  const named = typeof caption === 'string' ? captionAttributes(caption) : caption;
  return (Object.keys(named) as (keyof ShapeSpec)[]).every((key) => named[key] === spec[key]);
}
