import { crc32 } from './crc32.js';

export const PNG_SIGNATURE = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);

export interface PngChunk {
  readonly type: string;
  readonly data: Uint8Array;
}

/** Split a PNG into chunks up to IEND, checking lengths and CRCs. */
export function readPngChunks(bytes: Uint8Array): PngChunk[] {
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new Error('PNG: not a PNG file (bad signature)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: PngChunk[] = [];
  let position = 8;
  for (;;) {
    if (position + 8 > bytes.length) {
      throw new Error(`PNG: truncated file: it ends at byte ${bytes.length} before the IEND chunk`);
    }
    const length = view.getUint32(position);
    const type = String.fromCharCode(...bytes.subarray(position + 4, position + 8));
    if (!/^[A-Za-z]{4}$/.test(type))
      throw new Error(`PNG: corrupt file: invalid chunk type at byte ${position}`);
    if (length > 0x7fffffff || position + 12 + length > bytes.length) {
      throw new Error(
        `PNG: truncated file: ${type} chunk at byte ${position} claims ${length} bytes, past the end of the file`,
      );
    }
    const stored = view.getUint32(position + 8 + length);
    const computed = crc32(bytes.subarray(position + 4, position + 8 + length));
    if (stored !== computed) {
      throw new Error(
        `PNG: corrupt file: CRC mismatch in ${type} chunk at byte ${position} (stored ${hex(stored)}, computed ${hex(computed)})`,
      );
    }
    chunks.push({ type, data: bytes.subarray(position + 8, position + 8 + length) });
    position += 12 + length;
    if (type === 'IEND') return chunks;
  }
}

/** One chunk's bytes: length, type, data, CRC of type and data. */
export function writePngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
