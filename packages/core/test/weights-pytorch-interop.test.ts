import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, test } from 'vitest';
import { Module } from '../src/nn/index.js';
import {
  getStateDict,
  loadModuleWeights,
  loadStateDict,
  parseSafetensors,
  saveModuleWeights,
  serializeSafetensors,
} from '../src/weights/index.js';

// A Linear(2 -> 3) and a Conv2d(3 -> 2, kernel 2) with biases, and an int64 position_ids buffer,
// named and shaped like a PyTorch module whose state dict was saved with safetensors.torch.save_file.
class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor(inputs: number, outputs: number) {
    super();
    this.weight = this.addParameter('weight', tf.zeros([inputs, outputs]), 'linear');
    this.bias = this.addParameter('bias', tf.zeros([outputs]));
  }
}

class Conv extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor(kernel: number, inputs: number, outputs: number) {
    super();
    this.weight = this.addParameter('weight', tf.zeros([kernel, kernel, inputs, outputs]), 'conv2d');
    this.bias = this.addParameter('bias', tf.zeros([outputs]));
  }
}

class Net extends Module {
  readonly fc = this.addModule('fc', new Linear(2, 3));
  readonly conv = this.addModule('conv', new Conv(2, 3, 2));
  readonly positionIds = this.addParameter('position_ids', tf.zeros([1, 4], 'int32'), 'same', false);
}

const fcWeight = (o: number, i: number) => 10 * o + i + 0.5; // torch fc.weight[o][i], shape [3, 2]
const convWeight = (o: number, i: number, h: number, w: number) => 1000 * o + 100 * i + 10 * h + w + 0.25; // OIHW [2, 3, 2, 2]

/** The file PyTorch writes: `__metadata__` first, tensors by descending dtype then name, header padded with spaces. */
function pytorchFile(): Uint8Array {
  const header =
    '{"__metadata__":{"format":"pt"},' +
    '"position_ids":{"dtype":"I64","shape":[1,4],"data_offsets":[0,32]},' +
    '"conv.bias":{"dtype":"F32","shape":[2],"data_offsets":[32,40]},' +
    '"conv.weight":{"dtype":"F32","shape":[2,3,2,2],"data_offsets":[40,136]},' +
    '"fc.bias":{"dtype":"F32","shape":[3],"data_offsets":[136,148]},' +
    '"fc.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[148,172]}}';
  const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
  const bytes = new Uint8Array(8 + padded.length + 172);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(padded.length), true);
  for (let k = 0; k < padded.length; k++) bytes[8 + k] = padded.charCodeAt(k);
  let at = 8 + padded.length;
  const f32 = (v: number) => {
    view.setFloat32(at, v, true);
    at += 4;
  };
  for (let p = 0; p < 4; p++) {
    view.setBigInt64(at, BigInt(p + 100), true);
    at += 8;
  }
  f32(-1);
  f32(-2);
  for (let o = 0; o < 2; o++)
    for (let i = 0; i < 3; i++)
      for (let h = 0; h < 2; h++) for (let w = 0; w < 2; w++) f32(convWeight(o, i, h, w));
  f32(0.1);
  f32(0.2);
  f32(0.3);
  for (let o = 0; o < 3; o++) for (let i = 0; i < 2; i++) f32(fcWeight(o, i));
  expect(at).toBe(bytes.length);
  return bytes;
}

async function expectPytorchValues(net: Net): Promise<void> {
  const fc = (await net.fc.weight.array()) as number[][]; // ours [in=2, out=3]
  expect([fc.length, fc[0]!.length]).toEqual([2, 3]);
  for (let i = 0; i < 2; i++) for (let o = 0; o < 3; o++) expect(fc[i]![o]).toBe(fcWeight(o, i));
  const conv = (await net.conv.weight.array()) as number[][][][]; // ours HWIO [2, 2, 3, 2]
  expect(net.conv.weight.shape).toEqual([2, 2, 3, 2]);
  for (let h = 0; h < 2; h++)
    for (let w = 0; w < 2; w++)
      for (let i = 0; i < 3; i++)
        for (let o = 0; o < 2; o++) expect(conv[h]![w]![i]![o]).toBe(convWeight(o, i, h, w));
  expect(Array.from(await net.fc.bias.data())).toEqual(Array.from(new Float32Array([0.1, 0.2, 0.3])));
  expect(Array.from(await net.conv.bias.data())).toEqual([-1, -2]);
  expect(Array.from(await net.positionIds.data())).toEqual([100, 101, 102, 103]);
}

describe('PyTorch interop', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  test('a hand-built PyTorch file loads into our layouts and saves back to the same bytes (in memory)', async () => {
    const bytes = pytorchFile();
    const net = new Net();
    const before = tf.memory().numTensors;
    loadStateDict(net, parseSafetensors(bytes).tensors);
    expect(tf.memory().numTensors).toBe(before);
    await expectPytorchValues(net);
    const saved = serializeSafetensors(await getStateDict(net, { intDtype: 'I64' }), { format: 'pt' });
    expect(saved).toEqual(bytes);
    net.dispose();
  });

  test('the same through files: loadModuleWeights, then saveModuleWeights writes identical bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dalle2js-interop-'));
    dirs.push(dir);
    await writeFile(join(dir, 'pytorch.safetensors'), pytorchFile());
    const net = new Net();
    expect(await loadModuleWeights(net, join(dir, 'pytorch.safetensors'))).toEqual({
      missingKeys: [],
      unexpectedKeys: [],
    });
    await expectPytorchValues(net);
    await saveModuleWeights(net, join(dir, 'ours.safetensors'), {}, { intDtype: 'I64' });
    expect(new Uint8Array(await readFile(join(dir, 'ours.safetensors')))).toEqual(pytorchFile());
    net.dispose();
  });
});
