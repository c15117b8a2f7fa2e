import { unzlibSync, zlibSync } from 'fflate';
import { describe, expect, test } from 'vitest';
import { decodePng, encodePng, type RawImage } from '../src/image/index.js';

// An independent, deliberately plain PNG writer: bitwise CRC, test-local filters, chunks by hand.

function crc(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc(out.subarray(4, 8 + data.length)));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function predictor(type: number, left: number, up: number, upLeft: number): number {
  if (type === 1) return left;
  if (type === 2) return up;
  if (type === 3) return Math.floor((left + up) / 2);
  if (type === 4) {
    const p = left + up - upLeft;
    const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
    return pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
  }
  return 0;
}

/** Filter packed scanlines (one sub-image) with the given filter type per row. */
function filterScanlines(rows: Uint8Array[], bpp: number, filters: (y: number) => number): Uint8Array {
  const out: number[] = [];
  rows.forEach((row, y) => {
    const prev = rows[y - 1] ?? new Uint8Array(row.length);
    const type = filters(y);
    out.push(type);
    for (let i = 0; i < row.length; i++) {
      const left = i >= bpp ? row[i - bpp]! : 0;
      const upLeft = i >= bpp ? prev[i - bpp]! : 0;
      out.push((row[i]! - predictor(type, left, prev[i]!, upLeft) + 256) % 256);
    }
  });
  return new Uint8Array(out);
}

interface Spec {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlace?: 0 | 1;
  /** Samples, row-major, pixel-interleaved, one number per sample at `depth` bits. */
  samples: number[];
  samplesPerPixel: number;
  filters?: (y: number) => number;
  before?: Uint8Array[];
  splitIdat?: boolean;
}

function pack(samples: number[], depth: number): Uint8Array {
  const bits = samples.length * depth;
  const out = new Uint8Array(Math.ceil(bits / 8));
  samples.forEach((v, i) => {
    if (depth === 16) {
      out[2 * i] = v >> 8;
      out[2 * i + 1] = v & 0xff;
    } else if (depth === 8) out[i] = v;
    else out[(i * depth) >> 3]! |= v << (8 - depth - ((i * depth) & 7));
  });
  return out;
}

const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

function buildPng(spec: Spec): Uint8Array {
  const { width, height, depth, samplesPerPixel: spp } = spec;
  const bpp = Math.max(1, (spp * depth) >> 3);
  const filters = spec.filters ?? ((y: number) => y % 5);
  const passes = spec.interlace ? ADAM7 : [[0, 0, 1, 1]];
  const streams: Uint8Array[] = [];
  for (const [x0, y0, dx, dy] of passes as [number, number, number, number][]) {
    const rows: Uint8Array[] = [];
    for (let y = y0; y < height; y += dy) {
      const rowSamples: number[] = [];
      for (let x = x0; x < width; x += dx)
        rowSamples.push(...spec.samples.slice((y * width + x) * spp, (y * width + x + 1) * spp));
      if (rowSamples.length > 0) rows.push(pack(rowSamples, depth));
    }
    streams.push(filterScanlines(rows, bpp, filters));
  }
  const compressed = zlibSync(concat(streams));
  const half = spec.splitIdat ? compressed.length >> 1 : compressed.length;
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([depth, spec.colorType, 0, 0, spec.interlace ?? 0], 8);
  return concat([
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('tEXt', new TextEncoder().encode('Comment\0hand-built')),
    ...(spec.before ?? []),
    chunk('IDAT', compressed.subarray(0, half)),
    ...(half < compressed.length ? [chunk('IDAT', compressed.subarray(half))] : []),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

function noise(length: number, seed: number): Uint8Array {
  let state = seed;
  return Uint8Array.from({ length }, () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state >>> 24;
  });
}

function gradientImage(width: number, height: number, channels: RawImage['channels']): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i % channels) * 50) & 0xff;
  return { width, height, channels, data };
}

describe('encodePng -> decodePng', () => {
  test.each([1, 2, 3, 4] as const)('round trips %i-channel images exactly', (channels) => {
    for (const [w, h] of [
      [1, 1],
      [7, 5],
      [33, 17],
    ] as const) {
      const smooth = gradientImage(w, h, channels);
      expect(decodePng(encodePng(smooth))).toEqual(smooth);
      const random = { width: w, height: h, channels, data: noise(w * h * channels, w * h + channels) };
      expect(decodePng(encodePng(random, { level: 1 }))).toEqual(random);
    }
  });

  test('writes a standard PNG another decoder reads: header fields and filtered scanlines', () => {
    const image = gradientImage(6, 4, 3);
    const bytes = encodePng(image);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(new TextDecoder().decode(bytes.subarray(12, 16))).toBe('IHDR');
    expect([view.getUint32(16), view.getUint32(20), ...bytes.subarray(24, 29)]).toEqual([
      6, 4, 8, 2, 0, 0, 0,
    ]);
    expect(view.getUint32(29)).toBe(crc(bytes.subarray(12, 29)));
    const idatLength = view.getUint32(33);
    expect(new TextDecoder().decode(bytes.subarray(37, 41))).toBe('IDAT');
    const raw = unzlibSync(bytes.subarray(41, 41 + idatLength));
    expect(raw.length).toBe(4 * (1 + 18));
    // Unfilter with the test's own predictor and compare with the pixels.
    const rows: Uint8Array[] = [];
    for (let y = 0; y < 4; y++) {
      const type = raw[y * 19]!;
      expect(type).toBeLessThanOrEqual(4);
      const row = new Uint8Array(18);
      const prev = rows[y - 1] ?? new Uint8Array(18);
      for (let i = 0; i < 18; i++) {
        const left = i >= 3 ? row[i - 3]! : 0;
        const upLeft = i >= 3 ? prev[i - 3]! : 0;
        row[i] = (raw[y * 19 + 1 + i]! + predictor(type, left, prev[i]!, upLeft)) % 256;
      }
      rows.push(row);
    }
    expect(concat(rows)).toEqual(image.data);
    expect(new TextDecoder().decode(bytes.subarray(bytes.length - 8, bytes.length - 4))).toBe('IEND');
  });

  test('picks non-trivial filters for smooth images and compresses them', () => {
    const image = gradientImage(64, 64, 3);
    const bytes = encodePng(image);
    expect(bytes.length).toBeLessThan(encodePng(image, { level: 0 }).length);
    expect(bytes.length).toBeLessThan(image.data.length / 4);
  });

  test('refuses inconsistent images', () => {
    expect(() => encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(11) })).toThrow(
      /encodePng: a 2x2 image with 3 channels needs 12 bytes, found 11/,
    );
    expect(() => encodePng({ width: 0, height: 2, channels: 3, data: new Uint8Array(0) })).toThrow(
      /positive integers/,
    );
  });
});

describe('decodePng reads PNGs from another encoder', () => {
  test('RGB 8-bit with Sub, Up, Average and Paeth scanlines, IDAT split in two', () => {
    const image = { width: 9, height: 10, channels: 3 as const, data: noise(270, 3) };
    const bytes = buildPng({
      width: 9,
      height: 10,
      depth: 8,
      colorType: 2,
      samples: [...image.data],
      samplesPerPixel: 3,
      splitIdat: true,
    });
    expect(decodePng(bytes)).toEqual(image);
  });

  test.each([1, 2, 3, 4])('every row filtered with type %i', (type) => {
    // Large enough that Paeth meets every tie case (pa = pb, pb = pc) on noise.
    const image = { width: 24, height: 24, channels: 4 as const, data: noise(24 * 24 * 4, type) };
    const bytes = buildPng({
      width: 24,
      height: 24,
      depth: 8,
      colorType: 6,
      samples: [...image.data],
      samplesPerPixel: 4,
      filters: () => type,
    });
    expect(decodePng(bytes)).toEqual(image);
  });

  test('16-bit RGBA rounds to 8 bits (v / 257)', () => {
    const samples = [0, 65535, 257 * 100, 257 * 100 + 128, 257 * 100 + 129, 1, 128, 129];
    const bytes = buildPng({ width: 2, height: 1, depth: 16, colorType: 6, samples, samplesPerPixel: 4 });
    expect(decodePng(bytes)).toEqual({
      width: 2,
      height: 1,
      channels: 4,
      data: new Uint8Array([0, 255, 100, 100, 101, 0, 0, 1]),
    });
  });

  test('16-bit grey and grey + alpha 8-bit', () => {
    const grey = buildPng({
      width: 3,
      height: 2,
      depth: 16,
      colorType: 0,
      samples: [0, 257, 514, 65535, 32896, 32767],
      samplesPerPixel: 1,
    });
    expect(decodePng(grey)).toEqual({
      width: 3,
      height: 2,
      channels: 1,
      data: new Uint8Array([0, 1, 2, 255, 128, 127]),
    });
    const greyAlpha = buildPng({
      width: 2,
      height: 2,
      depth: 8,
      colorType: 4,
      samples: [1, 2, 3, 4, 5, 6, 7, 8],
      samplesPerPixel: 2,
    });
    expect(decodePng(greyAlpha)).toEqual({
      width: 2,
      height: 2,
      channels: 2,
      data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
    });
  });

  test.each([
    [1, [0, 1, 1, 0, 1, 0, 0, 1, 1, 1], [0, 255, 255, 0, 255, 0, 0, 255, 255, 255]],
    [2, [0, 1, 2, 3, 3, 2, 1, 0, 1, 2], [0, 85, 170, 255, 255, 170, 85, 0, 85, 170]],
    [4, [0, 15, 7, 8, 1, 2, 3, 4, 5, 6], [0, 255, 119, 136, 17, 34, 51, 68, 85, 102]],
  ])('grey at %i bits per sample scales to 0..255', (depth, samples, expected) => {
    const bytes = buildPng({ width: 5, height: 2, depth, colorType: 0, samples, samplesPerPixel: 1 });
    expect(decodePng(bytes)).toEqual({ width: 5, height: 2, channels: 1, data: new Uint8Array(expected) });
  });

  test('palette images: RGB, RGBA with tRNS, and 4-bit indices', () => {
    const plte = chunk('PLTE', new Uint8Array([10, 20, 30, 40, 50, 60, 70, 80, 90]));
    const indices = [0, 1, 2, 2, 1, 0];
    const rgb = buildPng({
      width: 3,
      height: 2,
      depth: 8,
      colorType: 3,
      samples: indices,
      samplesPerPixel: 1,
      before: [plte],
    });
    expect(decodePng(rgb)).toEqual({
      width: 3,
      height: 2,
      channels: 3,
      data: new Uint8Array([10, 20, 30, 40, 50, 60, 70, 80, 90, 70, 80, 90, 40, 50, 60, 10, 20, 30]),
    });
    const trns = chunk('tRNS', new Uint8Array([0, 128]));
    const rgba = buildPng({
      width: 3,
      height: 2,
      depth: 4,
      colorType: 3,
      samples: indices,
      samplesPerPixel: 1,
      before: [plte, trns],
    });
    const decoded = decodePng(rgba);
    expect(decoded.channels).toBe(4);
    expect(Array.from(decoded.data.subarray(0, 12))).toEqual([
      10, 20, 30, 0, 40, 50, 60, 128, 70, 80, 90, 255,
    ]);
  });

  test('tRNS colour keys add an alpha channel to grey and RGB', () => {
    const grey = buildPng({
      width: 3,
      height: 1,
      depth: 8,
      colorType: 0,
      samples: [5, 6, 5],
      samplesPerPixel: 1,
      before: [chunk('tRNS', new Uint8Array([0, 5]))],
    });
    expect(decodePng(grey)).toEqual({
      width: 3,
      height: 1,
      channels: 2,
      data: new Uint8Array([5, 0, 6, 255, 5, 0]),
    });
    const rgb = buildPng({
      width: 2,
      height: 1,
      depth: 8,
      colorType: 2,
      samples: [1, 2, 3, 1, 2, 4],
      samplesPerPixel: 3,
      before: [chunk('tRNS', new Uint8Array([0, 1, 0, 2, 0, 3]))],
    });
    expect(decodePng(rgb)).toEqual({
      width: 2,
      height: 1,
      channels: 4,
      data: new Uint8Array([1, 2, 3, 0, 1, 2, 4, 255]),
    });
  });

  test.each([
    [11, 9],
    [1, 1],
    [3, 2],
    [16, 16],
  ])('Adam7 interlaced RGB %ix%i', (width, height) => {
    const data = noise(width * height * 3, width * 31 + height);
    const bytes = buildPng({
      width,
      height,
      depth: 8,
      colorType: 2,
      interlace: 1,
      samples: [...data],
      samplesPerPixel: 3,
    });
    expect(decodePng(bytes)).toEqual({ width, height, channels: 3, data });
  });

  test('Adam7 interlaced 1-bit grey and 16-bit RGBA', () => {
    const bits = Array.from({ length: 13 * 7 }, (_, i) => ((i * 5) % 3 === 0 ? 1 : 0));
    const grey = buildPng({
      width: 13,
      height: 7,
      depth: 1,
      colorType: 0,
      interlace: 1,
      samples: bits,
      samplesPerPixel: 1,
    });
    expect(decodePng(grey).data).toEqual(new Uint8Array(bits.map((b) => b * 255)));
    const wide = Array.from({ length: 5 * 6 * 4 }, (_, i) => i * 257);
    const rgba = buildPng({
      width: 5,
      height: 6,
      depth: 16,
      colorType: 6,
      interlace: 1,
      samples: wide,
      samplesPerPixel: 4,
    });
    expect(decodePng(rgba).data).toEqual(new Uint8Array(wide.map((v) => v / 257)));
  });
});

describe('decodePng refuses corrupt files', () => {
  const good = () =>
    buildPng({ width: 4, height: 3, depth: 8, colorType: 2, samples: [...noise(36, 9)], samplesPerPixel: 3 });
  const idatAt = (bytes: Uint8Array) => {
    for (let i = 8; i < bytes.length - 4; i++)
      if (new TextDecoder().decode(bytes.subarray(i, i + 4)) === 'IDAT') return i;
    throw new Error('no IDAT');
  };

  test('the unmodified file decodes', () => {
    expect(decodePng(good()).width).toBe(4);
  });

  test('bad signature', () => {
    const bytes = good();
    bytes[1] = 0;
    expect(() => decodePng(bytes)).toThrow('PNG: not a PNG file (bad signature)');
  });

  test('CRC mismatch', () => {
    const bytes = good();
    const at = idatAt(bytes);
    bytes[at + 6]! ^= 0x01;
    expect(() => decodePng(bytes)).toThrow(
      /PNG: corrupt file: CRC mismatch in IDAT chunk at byte \d+ \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)/,
    );
  });

  test('truncated file and missing IEND', () => {
    const bytes = good();
    expect(() => decodePng(bytes.subarray(0, idatAt(bytes) + 10))).toThrow(
      /PNG: truncated file: IDAT chunk at byte \d+ claims \d+ bytes/,
    );
    expect(() => decodePng(bytes.subarray(0, bytes.length - 12))).toThrow(
      /PNG: truncated file: it ends at byte \d+ before the IEND chunk/,
    );
  });

  const withHeader = (depth: number, colorType: number) =>
    buildPng({ width: 2, height: 1, depth, colorType, samples: [0, 0, 0, 0, 0, 0], samplesPerPixel: 3 });

  test('invalid header fields', () => {
    expect(() => decodePng(withHeader(3, 2))).toThrow(
      'PNG: corrupt file: bit depth 3 is not allowed for colour type 2',
    );
    expect(() => decodePng(withHeader(8, 5))).toThrow('PNG: corrupt file: invalid colour type 5');
  });

  test('unknown filter type, short data, broken zlib stream', () => {
    const filterSeven = buildPng({
      width: 2,
      height: 2,
      depth: 8,
      colorType: 0,
      samples: [1, 2, 3, 4],
      samplesPerPixel: 1,
      filters: () => 0,
    });
    const raw = new Uint8Array([0, 1, 2, 7, 3, 4]);
    const patch = (stream: Uint8Array) => {
      const at = idatAt(filterSeven);
      const before = filterSeven.subarray(0, at - 4);
      const after = filterSeven.subarray(at + 4 + new DataView(filterSeven.buffer).getUint32(at - 4) + 4);
      return concat([before, chunk('IDAT', stream), after]);
    };
    expect(decodePng(patch(zlibSync(new Uint8Array([0, 1, 2, 0, 3, 4])))).data).toEqual(
      new Uint8Array([1, 2, 3, 4]),
    );
    expect(() => decodePng(patch(zlibSync(raw)))).toThrow('PNG: corrupt image data: unknown filter type 7');
    expect(() => decodePng(patch(zlibSync(raw.subarray(0, 5))))).toThrow(
      'PNG: corrupt image data: expected 6 bytes after decompression, found 5',
    );
    expect(() => decodePng(patch(new Uint8Array([0x78, 0x9c, 0xff, 0xff, 0xff])))).toThrow(
      /^PNG: corrupt image data: /,
    );
  });

  test('palette problems and unknown critical chunks', () => {
    const noPalette = buildPng({
      width: 2,
      height: 1,
      depth: 8,
      colorType: 3,
      samples: [0, 1],
      samplesPerPixel: 1,
    });
    expect(() => decodePng(noPalette)).toThrow('PNG: corrupt file: palette image without a valid PLTE chunk');
    const shortPalette = buildPng({
      width: 2,
      height: 1,
      depth: 8,
      colorType: 3,
      samples: [0, 1],
      samplesPerPixel: 1,
      before: [chunk('PLTE', new Uint8Array([1, 2, 3]))],
    });
    expect(() => decodePng(shortPalette)).toThrow(
      'PNG: corrupt image data: palette index 1 out of range (1 entries)',
    );
    const critical = buildPng({
      width: 1,
      height: 1,
      depth: 8,
      colorType: 0,
      samples: [0],
      samplesPerPixel: 1,
      before: [chunk('ABCD', new Uint8Array(1))],
    });
    expect(() => decodePng(critical)).toThrow('PNG: unsupported critical chunk ABCD');
  });
});
