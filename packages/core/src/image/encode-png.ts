import { zlibSync } from 'fflate';
import { PNG_SIGNATURE, writePngChunk } from './png-chunks.js';
import { filterRow } from './png-filter.js';
import { assertRawImage, type RawImage } from './raw-image.js';

export interface EncodePngOptions {
  /** zlib compression level, 0 (store) to 9. Default 6. */
  readonly level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

const COLOR_TYPE: Record<RawImage['channels'], number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

/**
 * Encode an 8-bit image as a non-interlaced PNG. Each scanline gets the filter whose output has
 * the smallest sum of absolute (signed) bytes, the heuristic libpng recommends.
 */
export function encodePng(image: RawImage, options: EncodePngOptions = {}): Uint8Array {
  assertRawImage(image, 'encodePng');
  const { width, height, channels, data } = image;
  const rowBytes = width * channels;
  const filtered = new Uint8Array(height * (rowBytes + 1));
  const candidate = new Uint8Array(rowBytes);
  let prev: Uint8Array = new Uint8Array(rowBytes);
  for (let y = 0; y < height; y++) {
    const row = data.subarray(y * rowBytes, (y + 1) * rowBytes);
    const target = filtered.subarray(y * (rowBytes + 1), (y + 1) * (rowBytes + 1));
    let best = Number.POSITIVE_INFINITY;
    for (let type = 0; type <= 4; type++) {
      filterRow(type, row, prev, channels, candidate);
      const cost = signedSum(candidate);
      if (cost < best) {
        best = cost;
        target[0] = type;
        target.set(candidate, 1);
      }
    }
    prev = row;
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, COLOR_TYPE[channels], 0, 0, 0], 8);
  const parts = [
    PNG_SIGNATURE,
    writePngChunk('IHDR', header),
    writePngChunk('IDAT', zlibSync(filtered, { level: options.level ?? 6 })),
    writePngChunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function signedSum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum += bytes[i]! < 128 ? bytes[i]! : 256 - bytes[i]!;
  return sum;
}
