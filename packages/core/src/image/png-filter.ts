/** PNG scanline filter types (PNG spec, section 9). */
export const PNG_FILTERS = { none: 0, sub: 1, up: 2, average: 3, paeth: 4 } as const;

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/**
 * Undo one filter in place. `prev` is the previous reconstructed row (zeros for the first),
 * `bpp` the bytes per complete pixel, at least 1.
 */
export function unfilterRow(type: number, row: Uint8Array, prev: Uint8Array, bpp: number): void {
  const n = row.length;
  switch (type) {
    case PNG_FILTERS.none:
      return;
    case PNG_FILTERS.sub:
      for (let i = bpp; i < n; i++) row[i] = row[i]! + row[i - bpp]!;
      return;
    case PNG_FILTERS.up:
      for (let i = 0; i < n; i++) row[i] = row[i]! + prev[i]!;
      return;
    case PNG_FILTERS.average:
      for (let i = 0; i < n; i++) row[i] = row[i]! + (((i >= bpp ? row[i - bpp]! : 0) + prev[i]!) >>> 1);
      return;
    case PNG_FILTERS.paeth:
      for (let i = 0; i < n; i++) {
        const left = i >= bpp ? row[i - bpp]! : 0;
        const upLeft = i >= bpp ? prev[i - bpp]! : 0;
        row[i] = row[i]! + paeth(left, prev[i]!, upLeft);
      }
      return;
    default:
      throw new Error(`PNG: corrupt image data: unknown filter type ${type}`);
  }
}

/** Apply one filter: `out[i]` is `row[i]` minus its predictor, modulo 256. */
export function filterRow(
  type: number,
  row: Uint8Array,
  prev: Uint8Array,
  bpp: number,
  out: Uint8Array,
): void {
  for (let i = 0; i < row.length; i++) {
    const left = i >= bpp ? row[i - bpp]! : 0;
    const up = prev[i]!;
    const upLeft = i >= bpp ? prev[i - bpp]! : 0;
    let predictor = 0;
    if (type === PNG_FILTERS.sub) predictor = left;
    else if (type === PNG_FILTERS.up) predictor = up;
    else if (type === PNG_FILTERS.average) predictor = (left + up) >>> 1;
    else if (type === PNG_FILTERS.paeth) predictor = paeth(left, up, upLeft);
    out[i] = row[i]! - predictor;
  }
}
