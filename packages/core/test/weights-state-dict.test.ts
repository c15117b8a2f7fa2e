import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { Module, ModuleList } from '../src/nn/index.js';
import {
  getStateDict,
  loadStateDict,
  parseSafetensors,
  type StateDict,
  serializeSafetensors,
  type TensorData,
} from '../src/weights/index.js';

class TestLinear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor(inputs: number, outputs: number, seed: number) {
    super();
    this.weight = this.addParameter(
      'weight',
      tf.randomNormal([inputs, outputs], 0, 1, 'float32', seed),
      'linear',
    );
    this.bias = this.addParameter('bias', tf.randomNormal([outputs], 0, 1, 'float32', seed + 1));
  }
}

class TestConv extends Module {
  readonly weight: tf.Variable;
  constructor(kernel: number, inputs: number, outputs: number, seed: number) {
    super();
    this.weight = this.addParameter(
      'weight',
      tf.randomNormal([kernel, kernel, inputs, outputs], 0, 1, 'float32', seed),
      'conv2d',
    );
  }
}

class TestNet extends Module {
  readonly proj: TestLinear;
  readonly conv: TestConv;
  readonly layers: ModuleList<TestLinear>;
  readonly positionIds: tf.Variable;
  constructor(seed: number) {
    super();
    this.proj = this.addModule('proj', new TestLinear(3, 5, seed));
    this.conv = this.addModule('conv', new TestConv(3, 2, 4, seed + 10));
    this.layers = this.addModule(
      'layers',
      new ModuleList([new TestLinear(5, 5, seed + 20), new TestLinear(5, 2, seed + 30)]),
    );
    this.positionIds = this.addParameter(
      'position_ids',
      tf.tensor2d([[0, 1, 2, 3]], [1, 4], 'int32'),
      'same',
      false,
    );
  }
}

const makeNet = (seed: number) => built(() => new TestNet(seed));

/** Build a module, disposing the initial-value tensors its constructor made (variables keep their data). */
function built<T>(make: () => T): T {
  tf.engine().startScope();
  try {
    return make();
  } finally {
    tf.engine().endScope();
  }
}

const words = async (t: tf.Tensor) => Array.from(new Uint32Array((await t.data()).slice().buffer));

/** The state dict of a throwaway net built with `seed`. */
async function stateDictOf(seed: number, dtypes?: Parameters<typeof getStateDict>[1]): Promise<StateDict> {
  const net = makeNet(seed);
  try {
    return await getStateDict(net, dtypes);
  } finally {
    net.dispose();
  }
}

async function snapshot(module: Module): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const [key, { variable }] of module.namedParameters()) out.set(key, await words(variable));
  return out;
}

describe('getStateDict', () => {
  test('returns PyTorch keys and layouts, element by element', async () => {
    const net = makeNet(1);
    const stateDict = await getStateDict(net);
    expect([...stateDict.keys()]).toEqual([
      'position_ids',
      'proj.weight',
      'proj.bias',
      'conv.weight',
      'layers.0.weight',
      'layers.0.bias',
      'layers.1.weight',
      'layers.1.bias',
    ]);
    expect(stateDict.get('proj.weight')!.shape).toEqual([5, 3]);
    expect(stateDict.get('conv.weight')!.shape).toEqual([4, 2, 3, 3]);
    expect(stateDict.get('position_ids')).toEqual({
      dtype: 'I32',
      shape: [1, 4],
      data: new Int32Array([0, 1, 2, 3]),
    });

    const ours = (await net.proj.weight.array()) as number[][];
    const torch = stateDict.get('proj.weight')!.data;
    for (let i = 0; i < 3; i++) for (let o = 0; o < 5; o++) expect(torch[o * 3 + i]).toBe(ours[i]![o]);
    const hwio = (await net.conv.weight.array()) as number[][][][];
    const oihw = stateDict.get('conv.weight')!.data;
    for (let h = 0; h < 3; h++)
      for (let w = 0; w < 3; w++)
        for (let i = 0; i < 2; i++)
          for (let o = 0; o < 4; o++) expect(oihw[((o * 2 + i) * 3 + h) * 3 + w]).toBe(hwio[h]![w]![i]![o]);
    net.dispose();
  });

  test('leaks nothing and returns copies that do not alias the variables', async () => {
    const net = makeNet(1);
    await getStateDict(net);
    const before = tf.memory().numTensors;
    const stateDict = await getStateDict(net, { floatDtype: 'F16', intDtype: 'I64' });
    expect(tf.memory().numTensors).toBe(before);
    expect(stateDict.get('proj.bias')!.dtype).toBe('F16');
    expect(stateDict.get('position_ids')!.dtype).toBe('I64');
    const bias = Array.from(await net.proj.bias.data());
    (stateDict.get('proj.bias')!.data as Float32Array).fill(0);
    expect(Array.from(await net.proj.bias.data())).toEqual(bias);
    net.dispose();
  });
});

describe('loadStateDict', () => {
  test('save -> load into a fresh module is bit-identical, NaN, -0 and subnormals included', async () => {
    const source = makeNet(1);
    source.proj.bias.assign(tf.tensor1d([Number.NaN, -0, 1e-40, -Infinity, 3.4028234663852886e38]));
    const bytes = serializeSafetensors(await getStateDict(source));
    const target = makeNet(2);
    expect(await snapshot(target)).not.toEqual(await snapshot(source));

    const before = tf.memory().numTensors;
    const result = loadStateDict(target, parseSafetensors(bytes).tensors);
    expect(tf.memory().numTensors).toBe(before);
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(await snapshot(target)).toEqual(await snapshot(source));
    expect(serializeSafetensors(await getStateDict(target))).toEqual(bytes);
    source.dispose();
    target.dispose();
  });

  test('does not alias the state dict arrays it was given', async () => {
    const net = makeNet(1);
    const stateDict = await stateDictOf(3);
    loadStateDict(net, stateDict);
    const bias = Array.from(await net.proj.bias.data());
    (stateDict.get('proj.bias')!.data as Float32Array).fill(0);
    expect(Array.from(await net.proj.bias.data())).toEqual(bias);
    net.dispose();
  });

  test('strict: one error lists every missing key, unexpected key and shape mismatch; nothing is assigned', async () => {
    const net = makeNet(1);
    const stateDict = await stateDictOf(2);
    stateDict.delete('layers.1.bias');
    stateDict.delete('conv.weight');
    stateDict.set('extra.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
    stateDict.set('proj.weight', { dtype: 'F32', shape: [3, 5], data: new Float32Array(15) });
    const before = await snapshot(net);
    let message = '';
    try {
      loadStateDict(net, stateDict);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      [
        'loadStateDict: cannot load into TestNet:',
        '  missing keys (2): conv.weight, layers.1.bias',
        '  unexpected keys (1): extra.weight',
        '  shape mismatch for proj.weight: expected [5, 3] (PyTorch layout), found [3, 5]',
      ].join('\n'),
    );
    expect(await snapshot(net)).toEqual(before);
    net.dispose();
  });

  test('non-strict: returns missing and unexpected keys, loads the rest, still refuses shape mismatches', async () => {
    const net = makeNet(1);
    const donor = makeNet(2);
    const stateDict = await getStateDict(donor);
    stateDict.delete('conv.weight');
    stateDict.set('extra', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
    const conv = await words(net.conv.weight);

    expect(loadStateDict(net, stateDict, { strict: false })).toEqual({
      missingKeys: ['conv.weight'],
      unexpectedKeys: ['extra'],
    });
    expect(await words(net.conv.weight)).toEqual(conv);
    expect(await words(net.proj.weight)).toEqual(await words(donor.proj.weight));

    stateDict.set('proj.bias', { dtype: 'F32', shape: [4], data: new Float32Array(4) });
    expect(() => loadStateDict(net, stateDict, { strict: false })).toThrow(
      /^loadStateDict: cannot load into TestNet:\n {2}shape mismatch for proj.bias: expected \[5\] \(PyTorch layout\), found \[4\]$/,
    );
    net.dispose();
    donor.dispose();
  });

  test('rename maps foreign keys, drops keys mapped to null, and reports clashes', async () => {
    const net = makeNet(1);
    const donor = makeNet(2);
    const foreign: StateDict = new Map();
    for (const [key, entry] of await getStateDict(donor))
      foreign.set(key.replace(/^layers\./, 'resblocks.'), entry);
    foreign.set('logit_scale', { dtype: 'F32', shape: [], data: new Float32Array([4.6]) });
    const rename = (key: string) => (key === 'logit_scale' ? null : key.replace(/^resblocks\./, 'layers.'));

    expect(() => loadStateDict(net, foreign)).toThrow(
      /missing keys \(4\): layers.0.weight.*\n.*unexpected keys \(5\): resblocks.0.weight/,
    );
    expect(loadStateDict(net, foreign, { rename })).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(await snapshot(net)).toEqual(await snapshot(donor));

    foreign.set('layers.0.bias', foreign.get('resblocks.0.bias')!);
    expect(() => loadStateDict(net, foreign, { rename })).toThrow(
      /duplicate key: "resblocks.0.bias" and "layers.0.bias" both map to "layers.0.bias"/,
    );
    foreign.delete('layers.0.bias');
    foreign.set('resblocks.1.bias', { dtype: 'F32', shape: [7], data: new Float32Array(7) });
    expect(() => loadStateDict(net, foreign, { rename })).toThrow(
      /shape mismatch for layers.1.bias: expected \[2\] \(PyTorch layout\), found \[7\] \(from "resblocks.1.bias"\)/,
    );
    net.dispose();
    donor.dispose();
  });

  test('dtypes: int64 buffers load into int32 with a range check; float into int is refused', async () => {
    const net = makeNet(1);
    const stateDict = await stateDictOf(2, { intDtype: 'I64' });
    const ids = (data: TensorData['data'], dtype: TensorData['dtype'] = 'I64'): TensorData => ({
      dtype,
      shape: [1, 4],
      data,
    });
    stateDict.set('position_ids', ids(new BigInt64Array([5n, 6n, 7n, 8n])));
    loadStateDict(net, stateDict);
    expect(Array.from(await net.positionIds.data())).toEqual([5, 6, 7, 8]);

    stateDict.set('position_ids', ids(new BigInt64Array([0n, 0n, 0n, 2n ** 33n])));
    expect(() => loadStateDict(net, stateDict)).toThrow(
      /value out of range for position_ids: int64 value 8589934592 at index 3/,
    );
    stateDict.set('position_ids', ids(new Float32Array(4), 'F32'));
    expect(() => loadStateDict(net, stateDict)).toThrow(
      /dtype mismatch for position_ids: expected a int32 tensor, found F32/,
    );
    stateDict.set('position_ids', ids(new Int32Array(3), 'I32'));
    expect(() => loadStateDict(net, stateDict)).toThrow(
      /size mismatch for position_ids: shape \[1, 4\] needs 4 values, found 3/,
    );
    expect(Array.from(await net.positionIds.data())).toEqual([5, 6, 7, 8]);
    net.dispose();
  });

  test('float16 checkpoints load as float32', async () => {
    const net = makeNet(1);
    const stateDict = parseSafetensors(
      serializeSafetensors(await stateDictOf(2, { floatDtype: 'F16' })),
    ).tensors;
    loadStateDict(net, stateDict);
    const torch = stateDict.get('proj.weight')!.data;
    const ours = (await net.proj.weight.array()) as number[][];
    expect(ours[2]![4]).toBe(torch[4 * 3 + 2]);
    expect(Math.fround(ours[2]![4]!)).toBe(ours[2]![4]);
    net.dispose();
  });
});
