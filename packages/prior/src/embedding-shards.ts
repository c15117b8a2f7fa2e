import { parseSafetensors, serializeSafetensors, type TensorData, writeFileAtomic } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkEmbeddingBatch, type EmbeddingBatch, type EmbeddingBatchShape } from './embedding-batch.js';

export interface WriteEmbeddingShardsOptions {
  /** Rows per shard file (the last one may hold fewer). Default 10000. */
  shardSize?: number;
  /** How floats are stored: 'F32' (exact) or 'F16' (half the disk, ~3 significant digits). Default 'F32'. */
  dtype?: EmbeddingShardDtype;
}

export type EmbeddingShardDtype = 'F32' | 'F16';
const SHARD_DTYPES: readonly EmbeddingShardDtype[] = ['F32', 'F16'];

/** `index.json` of a shard directory; written last, so a directory without it is incomplete. */
export interface EmbeddingShardIndex extends EmbeddingBatchShape {
  format: typeof FORMAT;
  dtype: EmbeddingShardDtype;
  shards: { file: string; count: number }[];
}

const FORMAT = 'dalle2js-prior-embeddings-v1';
const INDEX_FILE = 'index.json';

/**
 * Caches CLIP outputs as safetensors shards (`shard-00000.safetensors`, ...) plus `index.json`,
 * so that CLIP runs once and the prior trains from disk. Rows are re-cut into shards of
 * `shardSize` whatever the batch sizes. Every batch must have the same sizes and either all or none
 * carry text encodings. The batches stay the caller's. Node only.
 */
export async function writeEmbeddingShards(
  dir: string,
  batches: Iterable<EmbeddingBatch> | AsyncIterable<EmbeddingBatch>,
  options: WriteEmbeddingShardsOptions = {},
): Promise<EmbeddingShardIndex> {
  const { shardSize = 10000, dtype = 'F32' } = options;
  if (!Number.isInteger(shardSize) || shardSize <= 0) {
    throw new Error(`writeEmbeddingShards: shardSize must be a positive integer, got ${shardSize}`);
  }
  if (!SHARD_DTYPES.includes(dtype)) {
    throw new Error(`writeEmbeddingShards: unknown dtype "${dtype}"; valid: ${SHARD_DTYPES.join(', ')}`);
  }
  const { mkdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(dir, { recursive: true });

  let shape: EmbeddingBatchShape | undefined;
  let pending: ShardBuffer | undefined;
  const shards: EmbeddingShardIndex['shards'] = [];
  let total = 0;
  const flush = async (buffer: ShardBuffer) => {
    const file = `shard-${String(shards.length).padStart(5, '0')}.safetensors`;
    await writeFileAtomic(
      join(dir, file),
      serializeSafetensors(buffer.tensorData(dtype), { format: FORMAT }),
    );
    shards.push({ file, count: buffer.rows });
  };

  for await (const batch of batches) {
    const batchShape = checkEmbeddingBatch(batch, 'writeEmbeddingShards');
    if (shape === undefined) shape = batchShape;
    else assertSameShape(shape, batchShape);
    const rows = await readRows(batch, batchShape);
    let offset = 0;
    while (offset < batchShape.count) {
      pending ??= new ShardBuffer(shape, shardSize);
      offset += pending.append(rows, offset, batchShape.count - offset);
      if (pending.rows === shardSize) {
        await flush(pending);
        pending = undefined;
      }
    }
    total += batchShape.count;
  }
  if (pending !== undefined && pending.rows > 0) await flush(pending);

  const index: EmbeddingShardIndex = {
    format: FORMAT,
    dtype,
    ...(shape ?? { dim: 0, textEncodingLength: 0, textEncodingDim: 0 }),
    count: total,
    shards,
  };
  await writeFileAtomic(
    join(dir, INDEX_FILE),
    new TextEncoder().encode(`${JSON.stringify(index, null, 2)}\n`),
  );
  return index;
}

/** Reads `index.json` of a directory that `writeEmbeddingShards` finished. Node only. */
export async function readEmbeddingShardIndex(dir: string): Promise<EmbeddingShardIndex> {
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  let text: string;
  try {
    text = await readFile(join(dir, INDEX_FILE), 'utf8');
  } catch (error) {
    throw new Error(
      `readEmbeddingShards: ${dir} has no readable ${INDEX_FILE} (was writeEmbeddingShards finished?)`,
      {
        cause: error,
      },
    );
  }
  const index = JSON.parse(text) as EmbeddingShardIndex;
  if (index.format !== FORMAT) {
    throw new Error(
      `readEmbeddingShards: ${join(dir, INDEX_FILE)} has format "${index.format}", expected "${FORMAT}"`,
    );
  }
  return index;
}

/**
 * Yields the shards of a cache directory in order, one `EmbeddingBatch` (float32 tensors the caller
 * owns; textMask float32 0/1) per shard. Node only.
 */
export async function* readEmbeddingShards(dir: string): AsyncGenerator<EmbeddingBatch> {
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const index = await readEmbeddingShardIndex(dir);
  for (const { file, count } of index.shards) {
    const path = join(dir, file);
    const bytes = await readFile(path);
    const { tensors } = parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const part = (name: string, shape: number[]) => {
      const entry = tensors.get(name);
      if (entry === undefined || entry.shape.join() !== shape.join()) {
        throw new Error(
          `readEmbeddingShards: ${path}: expected "${name}" of shape [${shape.join(', ')}], found ${entry === undefined ? 'none' : `[${entry.shape.join(', ')}]`}`,
        );
      }
      return tf.tensor(Float32Array.from(entry.data as ArrayLike<number>), shape, 'float32');
    };
    const { dim, textEncodingLength: length, textEncodingDim: width } = index;
    const batch: EmbeddingBatch = {
      textEmbeds: part('text_embeds', [count, dim]),
      imageEmbeds: part('image_embeds', [count, dim]),
    };
    if (length > 0) {
      batch.textEncodings = part('text_encodings', [count, length, width]);
      batch.textMask = part('text_mask', [count, length]);
    }
    yield batch;
  }
}

interface BatchRows {
  textEmbeds: Float32Array;
  imageEmbeds: Float32Array;
  textEncodings: Float32Array | undefined;
  textMask: Float32Array | undefined;
}

async function readRows(batch: EmbeddingBatch, shape: EmbeddingBatchShape): Promise<BatchRows> {
  const read = async (t: tf.Tensor) => Float32Array.from((await t.data()) as ArrayLike<number>);
  const textEncodings = batch.textEncodings === undefined ? undefined : await read(batch.textEncodings);
  let textMask: Float32Array | undefined;
  if (batch.textMask !== undefined) textMask = await read(batch.textMask);
  else if (textEncodings !== undefined)
    textMask = new Float32Array(shape.count * shape.textEncodingLength).fill(1);
  return {
    textEmbeds: await read(batch.textEmbeds),
    imageEmbeds: await read(batch.imageEmbeds),
    textEncodings,
    textMask,
  };
}

/** One shard's rows, filled batch by batch. */
class ShardBuffer {
  rows = 0;
  private readonly textEmbeds: Float32Array;
  private readonly imageEmbeds: Float32Array;
  private readonly textEncodings: Float32Array;
  private readonly textMask: Float32Array;

  constructor(
    private readonly shape: EmbeddingBatchShape,
    private readonly capacity: number,
  ) {
    const { dim, textEncodingLength: length, textEncodingDim: width } = shape;
    this.textEmbeds = new Float32Array(capacity * dim);
    this.imageEmbeds = new Float32Array(capacity * dim);
    this.textEncodings = new Float32Array(capacity * length * width);
    this.textMask = new Float32Array(capacity * length);
  }

  /** Copies up to `count` rows of `source` from row `from`; returns how many fitted. */
  append(source: BatchRows, from: number, count: number): number {
    const take = Math.min(count, this.capacity - this.rows);
    const { dim, textEncodingLength: length, textEncodingDim: width } = this.shape;
    const copy = (target: Float32Array, values: Float32Array | undefined, rowSize: number) => {
      if (values === undefined || rowSize === 0) return;
      target.set(values.subarray(from * rowSize, (from + take) * rowSize), this.rows * rowSize);
    };
    copy(this.textEmbeds, source.textEmbeds, dim);
    copy(this.imageEmbeds, source.imageEmbeds, dim);
    copy(this.textEncodings, source.textEncodings, length * width);
    copy(this.textMask, source.textMask, length);
    this.rows += take;
    return take;
  }

  tensorData(dtype: EmbeddingShardDtype): Map<string, TensorData> {
    const n = this.rows;
    const { dim, textEncodingLength: length, textEncodingDim: width } = this.shape;
    const out = new Map<string, TensorData>([
      ['text_embeds', { dtype, shape: [n, dim], data: this.textEmbeds.subarray(0, n * dim) }],
      ['image_embeds', { dtype, shape: [n, dim], data: this.imageEmbeds.subarray(0, n * dim) }],
    ]);
    if (length > 0) {
      out.set('text_encodings', {
        dtype,
        shape: [n, length, width],
        data: this.textEncodings.subarray(0, n * length * width),
      });
      out.set('text_mask', {
        dtype: 'U8',
        shape: [n, length],
        data: Uint8Array.from(this.textMask.subarray(0, n * length)),
      });
    }
    return out;
  }
}

function assertSameShape(first: EmbeddingBatchShape, next: EmbeddingBatchShape): void {
  const keys = ['dim', 'textEncodingLength', 'textEncodingDim'] as const;
  for (const key of keys) {
    if (first[key] !== next[key]) {
      throw new Error(
        `writeEmbeddingShards: every batch must have the same ${key} (0 = no text encodings): the first had ${first[key]}, a later one ${next[key]}`,
      );
    }
  }
}
