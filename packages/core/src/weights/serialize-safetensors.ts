import { assertSafetensorsDtype, dtypeRank, encodeValues } from './safetensors-dtype.js';
import { formatShape, shapeSize, type TensorData } from './tensor-data.js';

/**
 * Serialize tensors to the safetensors format exactly as the reference implementation does:
 * tensors sorted by descending dtype alignment then by name, a compact JSON header with
 * `__metadata__` first (omitted when empty), padded with spaces to a multiple of 8 bytes,
 * then the data, contiguous and in header order.
 */
export function serializeSafetensors(
  tensors: ReadonlyMap<string, TensorData> | Iterable<readonly [string, TensorData]>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const sorted = [...tensors].sort(
    ([nameA, a], [nameB, b]) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || compareCodePoints(nameA, nameB),
  );
  const headerParts: string[] = [];
  const metadataEntries = Object.entries(metadata);
  if (metadataEntries.length > 0) {
    for (const [key, value] of metadataEntries) {
      if (typeof value !== 'string')
        throw new Error(`safetensors: metadata value for "${key}" is not a string`);
    }
    headerParts.push(`"__metadata__":${JSON.stringify(Object.fromEntries(metadataEntries))}`);
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of sorted) {
    const chunk = encodeTensor(name, tensor);
    const info = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + chunk.length] };
    headerParts.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    chunks.push(chunk);
    offset += chunk.length;
  }
  const json = new TextEncoder().encode(`{${headerParts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let position = 8 + headerLength;
  for (const chunk of chunks) {
    out.set(chunk, position);
    position += chunk.length;
  }
  return out;
}

function encodeTensor(name: string, tensor: TensorData): Uint8Array {
  const context = `safetensors: tensor "${name}"`;
  if (name === '__metadata__') throw new Error(`${context}: the name is reserved for metadata`);
  assertSafetensorsDtype(tensor.dtype, context);
  if (!tensor.shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw new Error(`${context}: shape ${formatShape(tensor.shape)} is not a list of non-negative integers`);
  }
  const size = shapeSize(tensor.shape);
  if (tensor.data.length !== size) {
    throw new Error(
      `${context}: shape ${formatShape(tensor.shape)} needs ${size} values, found ${tensor.data.length}`,
    );
  }
  return encodeValues(tensor.data, tensor.dtype, name);
}

/** Rust compares strings by UTF-8 bytes, which orders like code points (not like UTF-16 units). */
function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = left[i]!.codePointAt(0)! - right[i]!.codePointAt(0)!;
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}
