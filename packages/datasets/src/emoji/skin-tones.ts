/** The five Fitzpatrick modifiers and how captions say them. */
export const SKIN_TONES = {
  '1f3fb': 'light skin tone',
  '1f3fc': 'medium-light skin tone',
  '1f3fd': 'medium skin tone',
  '1f3fe': 'medium-dark skin tone',
  '1f3ff': 'dark skin tone',
} as const;

export type SkinToneCode = keyof typeof SKIN_TONES;
export const SKIN_TONE_CODES = Object.keys(SKIN_TONES) as SkinToneCode[];

const ZWJ = 0x200d;
const VARIATION_SELECTOR = 0xfe0f;
// People that take their own modifier inside a ZWJ sequence (couples, families, people holding hands).
const PERSON_BASES = new Set([0x1f468, 0x1f469, 0x1f9d1, 0x1f466, 0x1f467]);

/** The code points of `emoji` as lower-case hex joined by '-': '1f44b', '1f9d1-200d-1f4bb'. */
export function emojiCodepoints(emoji: string): string {
  return [...emoji].map((c) => c.codePointAt(0)!.toString(16)).join('-');
}

/**
 * `emoji` with one skin tone on every person in it: after the first code point and after each
 * person that follows a zero-width joiner, replacing the variation selector that a modifier makes
 * redundant ('🏌️‍♂️' -> '🏌🏽‍♂️').
 */
export function withSkinTone(emoji: string, tone: SkinToneCode): string {
  const points = [...emoji].map((c) => c.codePointAt(0)!);
  const modifier = Number.parseInt(tone, 16);
  const out: number[] = [];
  points.forEach((point, i) => {
    if (point === VARIATION_SELECTOR && i > 0 && out[out.length - 1] === modifier) return;
    out.push(point);
    if (i === 0 || (points[i - 1] === ZWJ && PERSON_BASES.has(point))) out.push(modifier);
  });
  return String.fromCodePoint(...out);
}
