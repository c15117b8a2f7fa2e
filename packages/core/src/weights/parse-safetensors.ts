import { assertSafetensorsDtype, decodeValues, dtypeByteSize, type Int64Mode } from './safetensors-dtype.js';
import { formatShape, shapeSize, type TensorData } from './tensor-data.js';

/** What `parseSafetensors` returns: tensors in file (offset) order and the `__metadata__` map. */
export interface Safetensors {
  readonly tensors: Map<string, TensorData>;
  readonly metadata: Record<string, string>;
}

export interface ParseSafetensorsOptions {
  /** I64 tensors as Int32Array with a range check (default), or as BigInt64Array. */
  readonly int64?: Int64Mode;
}

/** The reference implementation refuses headers over 100 MB; so do we, before decoding them. */
const MAX_HEADER_BYTES = 100_000_000;

interface HeaderEntry {
  readonly name: string;
  readonly dtype: TensorData['dtype'];
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

/**
 * Parse a safetensors file: 8-byte little-endian header length, JSON header, then the tensor bytes.
 * F16, BF16 and F64 decode to Float32Array; integer dtypes to Int32Array; BOOL to Uint8Array.
 * Every tensor is copied out of `bytes`. Throws with a specific message on any inconsistency.
 */
export function parseSafetensors(bytes: Uint8Array, options: ParseSafetensorsOptions = {}): Safetensors {
  if (bytes.length < 8) {
    throw new Error(
      `safetensors: truncated header: the file has ${bytes.length} bytes, fewer than the 8-byte length`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new Error(`safetensors: header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const dataStart = 8 + Number(headerLength);
  if (dataStart > bytes.length) {
    throw new Error(
      `safetensors: header length ${headerLength} runs past the end of the file (${bytes.length - 8} bytes follow the length)`,
    );
  }
  const header = parseHeader(bytes.subarray(8, dataStart));
  const dataLength = bytes.length - dataStart;
  const entries = readEntries(header, dataLength);
  const tensors = new Map<string, TensorData>();
  for (const entry of entries) {
    const data = decodeValues(
      bytes.subarray(dataStart + entry.begin, dataStart + entry.end),
      entry.dtype,
      entry.name,
      options.int64,
    );
    tensors.set(entry.name, { dtype: entry.dtype, shape: entry.shape, data });
  }
  return { tensors, metadata: readMetadata(header.__metadata__) };
}

function parseHeader(headerBytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new Error('safetensors: header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new Error(`safetensors: header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error('safetensors: header is not a JSON object');
  }
  return header as Record<string, unknown>;
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('safetensors: "__metadata__" must be an object of strings');
  }
  const metadata: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') {
      throw new Error(`safetensors: "__metadata__" value for "${key}" is not a string`);
    }
    metadata[key] = entry;
  }
  return metadata;
}

/** Validate every tensor entry, then check the offsets tile the data section exactly. */
function readEntries(header: Record<string, unknown>, dataLength: number): HeaderEntry[] {
  const entries: HeaderEntry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name !== '__metadata__') entries.push(readEntry(name, info, dataLength));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const entry of entries) {
    if (entry.begin < expected) {
      throw new Error(
        `safetensors: tensor "${entry.name}" data [${entry.begin}, ${entry.end}) overlaps the previous tensor (which ends at ${expected})`,
      );
    }
    if (entry.begin > expected) {
      throw new Error(
        `safetensors: gap in the data: bytes [${expected}, ${entry.begin}) belong to no tensor`,
      );
    }
    expected = entry.end;
  }
  if (expected !== dataLength) {
    throw new Error(
      `safetensors: data section has ${dataLength} bytes but the tensors cover only ${expected}`,
    );
  }
  return entries;
}

function readEntry(name: string, info: unknown, dataLength: number): HeaderEntry {
  const context = `safetensors: tensor "${name}"`;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    throw new Error(`${context}: header entry is not an object`);
  }
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  assertSafetensorsDtype(dtype, context);
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new Error(`${context}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw new Error(
      `${context}: data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new Error(`${context}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength) {
    throw new Error(
      `${context}: data_offsets [${begin}, ${end}] are out of range (the data section has ${dataLength} bytes)`,
    );
  }
  const expectedBytes = shapeSize(shape) * dtypeByteSize(dtype);
  if (end - begin !== expectedBytes) {
    throw new Error(
      `${context}: dtype ${dtype} with shape ${formatShape(shape)} needs ${expectedBytes} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
