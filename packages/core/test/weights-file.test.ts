import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Module } from '../src/nn/index.js';
import {
  loadModuleWeights,
  loadSafetensorsFile,
  saveModuleWeights,
  saveSafetensorsFile,
  serializeSafetensors,
} from '../src/weights/index.js';

class Tiny extends Module {
  readonly weight: tf.Variable;
  readonly kernel: tf.Variable;
  constructor(seed: number, outputs = 4) {
    super();
    this.weight = this.addParameter(
      'weight',
      tf.randomUniform([3, outputs], -1, 1, 'float32', seed),
      'linear',
    );
    this.kernel = this.addParameter(
      'kernel',
      tf.randomUniform([1, 3, 2, 2], -1, 1, 'float32', seed + 1),
      'conv2d',
    );
  }
}

const tiny = (seed: number, outputs?: number) => built(() => new Tiny(seed, outputs));

/** Build a module, disposing the initial-value tensors its constructor made (variables keep their data). */
function built<T>(make: () => T): T {
  tf.engine().startScope();
  try {
    return make();
  } finally {
    tf.engine().endScope();
  }
}

const bits = async (v: tf.Variable) => Array.from(new Uint32Array((await v.data()).slice().buffer));

describe('safetensors files', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dalle2js-weights-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('saveSafetensorsFile writes the bytes, replaces an old file and leaves no temporary file', async () => {
    const path = join(dir, 'a.safetensors');
    await writeFile(path, 'old contents');
    const bytes = serializeSafetensors(
      new Map([['x', { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }]]),
    );
    await saveSafetensorsFile(path, bytes);
    expect(new Uint8Array(await readFile(path))).toEqual(bytes);
    expect(await readdir(dir)).toEqual(['a.safetensors']);
    const loaded = await loadSafetensorsFile(path);
    expect(loaded.tensors.get('x')!.data).toEqual(new Float32Array([1, 2]));
  });

  test('a failed save leaves the target untouched and no temporary file behind', async () => {
    const sub = await mkdtemp(join(dir, 'fail-'));
    const target = join(sub, 'taken');
    await mkdir(target);
    await writeFile(join(target, 'inside'), 'x');
    await expect(saveSafetensorsFile(target, new Uint8Array(16))).rejects.toThrow();
    expect((await readdir(sub)).sort()).toEqual(['taken']);
    expect(await readdir(target)).toEqual(['inside']);
    await expect(
      saveSafetensorsFile(join(dir, 'missing-dir', 'w.safetensors'), new Uint8Array(16)),
    ).rejects.toThrow(/ENOENT/);
  });

  test('loadSafetensorsFile names the file in its errors', async () => {
    const path = join(dir, 'corrupt.safetensors');
    await writeFile(path, new Uint8Array([1, 2, 3]));
    await expect(loadSafetensorsFile(path)).rejects.toThrow(`${path}: safetensors: truncated header`);
  });

  test('saveModuleWeights -> loadModuleWeights into a fresh module is bit-identical and leaks nothing', async () => {
    const path = join(dir, 'tiny.safetensors');
    const source = tiny(1);
    const target = tiny(2);
    await saveModuleWeights(source, path, { note: 'test' });
    const before = tf.memory().numTensors;
    expect(await loadModuleWeights(target, path)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(tf.memory().numTensors).toBe(before);
    expect(await bits(target.weight)).toEqual(await bits(source.weight));
    expect(await bits(target.kernel)).toEqual(await bits(source.kernel));
    expect((await loadSafetensorsFile(path)).metadata).toEqual({ format: 'pt', note: 'test' });
    source.dispose();
    target.dispose();
  });

  test('loadModuleWeights reports mismatches with the path and options pass through', async () => {
    const path = join(dir, 'tiny-mismatch.safetensors');
    const source = tiny(1);
    await saveModuleWeights(source, path);
    const wider = tiny(3, 5);
    await expect(loadModuleWeights(wider, path)).rejects.toThrow(
      `${path}: loadStateDict: cannot load into Tiny:\n  shape mismatch for weight: expected [5, 3] (PyTorch layout), found [4, 3]`,
    );
    const result = await loadModuleWeights(source, path, {
      rename: (key) => (key === 'kernel' ? null : key),
      strict: false,
    });
    expect(result).toEqual({ missingKeys: ['kernel'], unexpectedKeys: [] });
    source.dispose();
    wider.dispose();
  });
});
