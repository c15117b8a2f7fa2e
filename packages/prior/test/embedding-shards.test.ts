import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TorchGenerator } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  disposeEmbeddingBatch,
  type EmbeddingBatch,
  readEmbeddingShardIndex,
  readEmbeddingShards,
  writeEmbeddingShards,
} from '../src/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prior-shards-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function batch(g: TorchGenerator, n: number, withEncodings = true): EmbeddingBatch {
  const out: EmbeddingBatch = { textEmbeds: g.randnTensor([n, 4]), imageEmbeds: g.randnTensor([n, 4]) };
  if (withEncodings) {
    out.textEncodings = g.randnTensor([n, 3, 2]);
    out.textMask = tf.tensor2d(
      Array.from({ length: n * 3 }, (_, i) => (i % 3 === 2 && (i / 3) % 2 < 1 ? 0 : 1)),
      [n, 3],
    );
  }
  return out;
}

async function rowsOf(batches: EmbeddingBatch[], key: keyof EmbeddingBatch): Promise<number[]> {
  const out: number[] = [];
  for (const b of batches) out.push(...(await b[key]!.data()));
  return out;
}

describe('writeEmbeddingShards / readEmbeddingShards', () => {
  it('re-cuts batches into shards of shardSize and reads every row back in order', async () => {
    const dir = await tempDir();
    const g = new TorchGenerator(0);
    const written = [batch(g, 3), batch(g, 5), batch(g, 2)];
    const before = tf.memory().numTensors;
    const index = await writeEmbeddingShards(dir, written, { shardSize: 4 });
    expect(tf.memory().numTensors).toBe(before);
    expect(index.count).toBe(10);
    expect(index.shards.map((s) => s.count)).toEqual([4, 4, 2]);
    expect({ dim: index.dim, length: index.textEncodingLength, width: index.textEncodingDim }).toEqual({
      dim: 4,
      length: 3,
      width: 2,
    });
    expect((await readdir(dir)).sort()).toEqual([
      'index.json',
      'shard-00000.safetensors',
      'shard-00001.safetensors',
      'shard-00002.safetensors',
    ]);
    expect(await readEmbeddingShardIndex(dir)).toEqual(index);

    const read: EmbeddingBatch[] = [];
    for await (const shard of readEmbeddingShards(dir)) read.push(shard);
    expect(read.map((b) => b.textEmbeds.shape)).toEqual([
      [4, 4],
      [4, 4],
      [2, 4],
    ]);
    expect(read[0]!.textEncodings!.shape).toEqual([4, 3, 2]);
    for (const key of ['textEmbeds', 'imageEmbeds', 'textEncodings', 'textMask'] as const) {
      expect(await rowsOf(read, key), key).toEqual(await rowsOf(written, key));
    }
    for (const b of [...written, ...read]) disposeEmbeddingBatch(b);
  });

  it('stores batches without text encodings, async sources and half precision', async () => {
    const dir = await tempDir();
    const g = new TorchGenerator(1);
    const written = [batch(g, 3, false), batch(g, 3, false)];
    async function* source() {
      yield* written;
    }
    const index = await writeEmbeddingShards(dir, source(), { dtype: 'F16' });
    expect(index.shards).toEqual([{ file: 'shard-00000.safetensors', count: 6 }]);
    const read: EmbeddingBatch[] = [];
    for await (const shard of readEmbeddingShards(dir)) read.push(shard);
    expect(read).toHaveLength(1);
    expect(read[0]!.textEncodings).toBeUndefined();
    const expected = await rowsOf(written, 'imageEmbeds');
    const actual = await rowsOf(read, 'imageEmbeds');
    expect(actual).not.toEqual(expected);
    for (const [i, v] of actual.entries()) expect(v).toBeCloseTo(expected[i]!, 2);
    for (const b of [...written, ...read]) disposeEmbeddingBatch(b);
  });

  it('rejects inconsistent batches and bad options, naming the valid values', async () => {
    const dir = await tempDir();
    const g = new TorchGenerator(2);
    const mixed = [batch(g, 2), batch(g, 2, false)];
    await expect(writeEmbeddingShards(dir, mixed)).rejects.toThrow(/same textEncodingLength/);
    const wrong: EmbeddingBatch = { textEmbeds: g.randnTensor([2, 4]), imageEmbeds: g.randnTensor([2, 5]) };
    await expect(writeEmbeddingShards(dir, [wrong])).rejects.toThrow(/imageEmbeds \[2, 4\].*got \[2, 5\]/);
    await expect(writeEmbeddingShards(dir, [], { dtype: 'F8' as never })).rejects.toThrow(/valid: F32, F16/);
    await expect(writeEmbeddingShards(dir, [], { shardSize: 0 })).rejects.toThrow(/shardSize/);
    const empty = await tempDir();
    await expect(readEmbeddingShardIndex(empty)).rejects.toThrow(/no readable index.json/);
    for (const b of [...mixed, wrong]) disposeEmbeddingBatch(b);
  });
});
