import { unzlibSync } from 'fflate';
import { type PngChunk, readPngChunks } from './png-chunks.js';
import { unfilterRow } from './png-filter.js';
import type { RawImage } from './raw-image.js';

interface PngHeader {
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
  readonly colorType: number;
  readonly interlaced: boolean;
}

/** Samples per pixel and allowed bit depths for each colour type (PNG spec, table 11.1). */
const COLOR_TYPES: Record<number, { samples: number; depths: number[] }> = {
  0: { samples: 1, depths: [1, 2, 4, 8, 16] },
  2: { samples: 3, depths: [8, 16] },
  3: { samples: 1, depths: [1, 2, 4, 8] },
  4: { samples: 2, depths: [8, 16] },
  6: { samples: 4, depths: [8, 16] },
};

// Adam7 passes: [xStart, yStart, xStep, yStep].
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

const KNOWN_CRITICAL = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND']);

/**
 * Decode a PNG: every colour type, bit depths 1 to 16, Adam7 interlacing, palette and tRNS
 * transparency. Output is 8-bit: 16-bit samples are rounded (v / 257), low depths scaled to 0..255.
 * Palette images give RGB, or RGBA when they carry transparency; tRNS colour keys add alpha.
 */
export function decodePng(bytes: Uint8Array): RawImage {
  const chunks = readPngChunks(bytes);
  const header = readHeader(chunks[0]);
  let palette: Uint8Array | undefined;
  let transparency: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  for (const { type, data } of chunks.slice(1)) {
    if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') transparency = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IHDR') throw new Error('PNG: corrupt file: more than one IHDR chunk');
    else if (!KNOWN_CRITICAL.has(type) && type.charCodeAt(0) < 97) {
      throw new Error(`PNG: unsupported critical chunk ${type}`);
    }
  }
  if (idat.length === 0) throw new Error('PNG: corrupt file: no IDAT chunk');
  const writer = makePixelWriter(header, palette, transparency);
  const raw = inflate(idat, expectedDataLength(header));
  const out = new Uint8Array(header.width * header.height * writer.channels);
  const passes = header.interlaced ? ADAM7 : ([[0, 0, 1, 1]] as const);
  let offset = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const width = Math.ceil((header.width - x0) / dx);
    const height = Math.ceil((header.height - y0) / dy);
    if (width <= 0 || height <= 0) continue;
    const rowBytes = Math.ceil((width * writer.bitsPerPixel) / 8);
    const bpp = Math.max(1, writer.bitsPerPixel >> 3);
    let prev: Uint8Array = new Uint8Array(rowBytes);
    for (let y = 0; y < height; y++) {
      const row = raw.subarray(offset + 1, offset + 1 + rowBytes);
      unfilterRow(raw[offset]!, row, prev, bpp);
      writer.writeRow(
        row,
        width,
        out,
        ((y0 + y * dy) * header.width + x0) * writer.channels,
        dx * writer.channels,
      );
      prev = row;
      offset += 1 + rowBytes;
    }
  }
  return { width: header.width, height: header.height, channels: writer.channels, data: out };
}

function readHeader(chunk: PngChunk | undefined): PngHeader {
  if (chunk?.type !== 'IHDR') throw new Error('PNG: corrupt file: the first chunk is not IHDR');
  if (chunk.data.length !== 13)
    throw new Error(`PNG: corrupt file: IHDR has ${chunk.data.length} bytes, not 13`);
  const view = new DataView(chunk.data.buffer, chunk.data.byteOffset, 13);
  const [width, height] = [view.getUint32(0), view.getUint32(4)];
  const [bitDepth, colorType, compression, filter, interlace] = chunk.data.subarray(8, 13);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new Error(`PNG: corrupt file: invalid size ${width}x${height}`);
  }
  const allowed = COLOR_TYPES[colorType!];
  if (!allowed) throw new Error(`PNG: corrupt file: invalid colour type ${colorType}`);
  if (!allowed.depths.includes(bitDepth!)) {
    throw new Error(`PNG: corrupt file: bit depth ${bitDepth} is not allowed for colour type ${colorType}`);
  }
  if (compression !== 0 || filter !== 0 || interlace! > 1) {
    throw new Error(
      `PNG: corrupt file: unknown compression ${compression}, filter ${filter} or interlace ${interlace} method`,
    );
  }
  return { width, height, bitDepth: bitDepth!, colorType: colorType!, interlaced: interlace === 1 };
}

function expectedDataLength({ width, height, bitDepth, colorType, interlaced }: PngHeader): number {
  const bitsPerPixel = COLOR_TYPES[colorType]!.samples * bitDepth;
  const passes = interlaced ? ADAM7 : ([[0, 0, 1, 1]] as const);
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    if (w > 0 && h > 0) total += h * (1 + Math.ceil((w * bitsPerPixel) / 8));
  }
  return total;
}

function inflate(parts: Uint8Array[], expected: number): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const joined = new Uint8Array(length);
  length = 0;
  for (const part of parts) {
    joined.set(part, length);
    length += part.length;
  }
  let raw: Uint8Array;
  try {
    raw = unzlibSync(joined);
  } catch (error) {
    throw new Error(`PNG: corrupt image data: ${(error as Error).message}`);
  }
  if (raw.length !== expected) {
    throw new Error(
      `PNG: corrupt image data: expected ${expected} bytes after decompression, found ${raw.length}`,
    );
  }
  return raw;
}

interface PixelWriter {
  readonly channels: RawImage['channels'];
  readonly bitsPerPixel: number;
  /** Write `count` pixels of an unfiltered row at `out[start]`, `start + stride`, ... */
  writeRow(row: Uint8Array, count: number, out: Uint8Array, start: number, stride: number): void;
}

function makePixelWriter(header: PngHeader, palette?: Uint8Array, transparency?: Uint8Array): PixelWriter {
  const { bitDepth: depth, colorType } = header;
  const samples = COLOR_TYPES[colorType]!.samples;
  const bitsPerPixel = samples * depth;
  const sample = sampleReader(depth);
  const scale =
    depth === 16 ? (v: number) => Math.round(v / 257) : (v: number) => (v * 255) / ((1 << depth) - 1);

  if (colorType === 3) {
    if (!palette || palette.length === 0 || palette.length % 3 !== 0 || palette.length > 768) {
      throw new Error('PNG: corrupt file: palette image without a valid PLTE chunk');
    }
    const entries = palette.length / 3;
    const alpha = transparency;
    return {
      channels: alpha ? 4 : 3,
      bitsPerPixel,
      writeRow(row, count, out, start, stride) {
        for (let x = 0, o = start; x < count; x++, o += stride) {
          const index = sample(row, x);
          if (index >= entries)
            throw new Error(
              `PNG: corrupt image data: palette index ${index} out of range (${entries} entries)`,
            );
          out[o] = palette[index * 3]!;
          out[o + 1] = palette[index * 3 + 1]!;
          out[o + 2] = palette[index * 3 + 2]!;
          if (alpha) out[o + 3] = alpha[index] ?? 255;
        }
      },
    };
  }

  if (colorType === 0 || colorType === 2) {
    const key = transparency ? colourKey(transparency, samples) : undefined;
    const channels = (samples + (key ? 1 : 0)) as RawImage['channels'];
    return {
      channels,
      bitsPerPixel,
      writeRow(row, count, out, start, stride) {
        for (let x = 0, o = start; x < count; x++, o += stride) {
          let matches = true;
          for (let s = 0; s < samples; s++) {
            const v = sample(row, x * samples + s);
            out[o + s] = scale(v);
            if (key && v !== key[s]) matches = false;
          }
          if (key) out[o + samples] = matches ? 0 : 255;
        }
      },
    };
  }

  return {
    channels: samples as RawImage['channels'],
    bitsPerPixel,
    writeRow(row, count, out, start, stride) {
      for (let x = 0, o = start; x < count; x++, o += stride) {
        for (let s = 0; s < samples; s++) out[o + s] = scale(sample(row, x * samples + s));
      }
    },
  };
}

/** tRNS for grey/RGB: one 16-bit sample value per channel that marks a pixel fully transparent. */
function colourKey(transparency: Uint8Array, samples: number): number[] {
  if (transparency.length !== samples * 2) {
    throw new Error(`PNG: corrupt file: tRNS has ${transparency.length} bytes, expected ${samples * 2}`);
  }
  return Array.from({ length: samples }, (_, s) => (transparency[2 * s]! << 8) | transparency[2 * s + 1]!);
}

function sampleReader(depth: number): (row: Uint8Array, index: number) => number {
  if (depth === 8) return (row, index) => row[index]!;
  if (depth === 16) return (row, index) => (row[2 * index]! << 8) | row[2 * index + 1]!;
  const mask = (1 << depth) - 1;
  return (row, index) => {
    const bit = index * depth;
    return (row[bit >> 3]! >> (8 - depth - (bit & 7))) & mask;
  };
}
