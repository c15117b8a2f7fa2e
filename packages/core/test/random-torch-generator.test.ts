import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fmaf } from '../src/random/avx2-box-muller.js';
import { defaultGenerator, MT19937, manualSeed, TorchGenerator } from '../src/random/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixturePath = path.resolve(repoRoot, '../shared/fixtures/torch-rng/torch_randn.safetensors');

/** The F32 tensors of a safetensors file: u64 header length, JSON header, raw data. */
function readF32Safetensors(file: string): Map<string, { shape: number[]; values: Float32Array }> {
  const bytes = readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    expect(entry.dtype).toBe('F32');
    const [begin, end] = entry.data_offsets;
    const raw = bytes.subarray(8 + headerLength + begin, 8 + headerLength + end);
    const values = new Float32Array(raw.byteLength / 4);
    new Uint8Array(values.buffer).set(raw);
    out.set(name, { shape: entry.shape, values });
  }
  return out;
}

const fixture = readF32Safetensors(fixturePath);

function get(name: string): { shape: number[]; values: Float32Array } {
  const entry = fixture.get(name);
  if (!entry) throw new Error(`fixture has no ${name}`);
  return entry;
}

/** Indices where the arrays differ in any bit. */
function mismatches(actual: Float32Array, expected: Float32Array): number[] {
  expect(actual.length).toBe(expected.length);
  const bad: number[] = [];
  for (let i = 0; i < actual.length; i++) if (!Object.is(actual[i], expected[i])) bad.push(i);
  return bad;
}

const randnKeys = [...fixture.keys()].filter((k) => /^seed\d+_[\dx]+_first$/.test(k));

describe('TorchGenerator against torch.randn (torch 2.11 fixture)', () => {
  it('covers every key of the fixture', () => {
    const covered = new Set<string>(['seed3_rand_100', 'seed3_randn_after_rand_20']);
    for (const k of randnKeys) covered.add(k).add(k.replace(/_first$/, '_second'));
    expect([...fixture.keys()].sort()).toEqual([...covered].sort());
    expect(randnKeys.length).toBe(7);
  });

  it.each(randnKeys)('%s and the call after it match bit for bit', (key) => {
    const match = /^seed(\d+)_([\dx]+)_first$/.exec(key);
    if (!match?.[1] || !match[2]) throw new Error(key);
    const shape = match[2].split('x').map(Number);
    const first = get(key);
    const second = get(key.replace(/_first$/, '_second'));
    expect(first.shape).toEqual(shape);
    const generator = new TorchGenerator(BigInt(match[1]));
    expect(mismatches(generator.randn(shape), first.values)).toEqual([]);
    expect(mismatches(generator.randn(shape), second.values)).toEqual([]);
  });

  it('starts seed 0 with the values the conformance README quotes', () => {
    const x = new TorchGenerator(0).randn([16]);
    expect(Array.from(x.subarray(0, 4))).toEqual(
      [-1.12584, -1.15236, -0.25058, -0.43388].map((v) => expect.closeTo(v, 5)),
    );
  });

  it('reproduces rand followed by randn', () => {
    const generator = new TorchGenerator(3);
    expect(mismatches(generator.rand([100]), get('seed3_rand_100').values)).toEqual([]);
    expect(mismatches(generator.randn([20]), get('seed3_randn_after_rand_20').values)).toEqual([]);
  });

  it('keeps the cached second sample of small draws across calls', () => {
    // Three draws of randn(3) read the same stream as one randn(9), cache included.
    const a = new TorchGenerator(7);
    const pieces = [...a.randn([3]), ...a.randn([3]), ...a.randn([3])];
    const whole = new TorchGenerator(7).randn([9]);
    expect(pieces).toEqual(Array.from(whole));
    expect(Array.from(new TorchGenerator(7).randn([15]).subarray(0, 6))).toEqual(
      Array.from(get('seed7_3_first').values).concat(Array.from(get('seed7_3_second').values)),
    );
  });

  it('keeps only the low 32 bits of the seed, like at::mt19937', () => {
    const expected = get('seed4294967301_33_first').values;
    expect(mismatches(new TorchGenerator(2 ** 32 + 5).randn([33]), expected)).toEqual([]);
    expect(mismatches(new TorchGenerator(5).randn([33]), expected)).toEqual([]);
  });
});

describe('TorchGenerator API', () => {
  it('manualSeed restarts the stream and drops the cached sample', () => {
    const generator = new TorchGenerator(7);
    const first = generator.randn([3]);
    generator.manualSeed(7);
    expect(generator.randn([3])).toEqual(first);
    expect(generator.initialSeed()).toBe(7n);
  });

  it('restores a JSON round-tripped state, cached sample included', () => {
    const generator = new TorchGenerator(11);
    generator.randn([5]); // odd count leaves a cached sample
    generator.rand([700]); // crosses a twist of the Mersenne Twister
    const saved = JSON.parse(JSON.stringify(generator.getState()));
    expect(saved.nextDoubleNormal).not.toBeNull();
    const expected = [...generator.randn([1]), ...generator.randn([40])];
    const restored = new TorchGenerator(0);
    restored.setState(saved);
    expect([...restored.randn([1]), ...restored.randn([40])]).toEqual(expected);
    expect(restored.initialSeed()).toBe(11n);
    const clone = generator.clone();
    expect(clone.randn([17])).toEqual(generator.randn([17]));
  });

  it('implements Rng with normal(n) = randn([n]) and uniform(n) = rand([n])', () => {
    expect(new TorchGenerator(1).normal(20)).toEqual(new TorchGenerator(1).randn([4, 5]));
    const u = new TorchGenerator(1).uniform(1000);
    expect(u).toEqual(new TorchGenerator(1).rand([10, 100]));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
  });

  it('randnTensor and randTensor return tensors the caller owns', async () => {
    const before = tf.memory().numTensors;
    const x = new TorchGenerator(0).randnTensor([4, 3, 8, 8]);
    expect(x.shape).toEqual([4, 3, 8, 8]);
    expect(x.dtype).toBe('float32');
    expect(mismatches((await x.data()) as Float32Array, get('seed0_4x3x8x8_first').values)).toEqual([]);
    const u = new TorchGenerator(3).randTensor([100]);
    expect(mismatches((await u.data()) as Float32Array, get('seed3_rand_100').values)).toEqual([]);
    tf.dispose([x, u]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('handles empty shapes and rejects bad shapes and seeds', () => {
    expect(new TorchGenerator(0).randn([0, 4]).length).toBe(0);
    expect(new TorchGenerator(0).randn([]).length).toBe(1);
    expect(() => new TorchGenerator(0).randn([2, -1])).toThrow(/invalid shape/);
    expect(() => new TorchGenerator(1.5)).toThrow(/safe integer/);
    expect(() => new TorchGenerator(2n ** 64n)).toThrow(/2\^64/);
    expect(new TorchGenerator(-1).initialSeed()).toBe(2n ** 64n - 1n);
  });

  it('manualSeed seeds the process-wide default generator', () => {
    const generator = manualSeed(0);
    expect(generator).toBe(defaultGenerator());
    expect(mismatches(defaultGenerator().randn([16]), get('seed0_16_first').values)).toEqual([]);
    expect(mismatches(defaultGenerator().randn([16]), get('seed0_16_second').values)).toEqual([]);
  });
});

describe('building blocks', () => {
  it('MT19937 matches std::mt19937: the 10000th output of the default seed is 4123659995', () => {
    const mt = new MT19937();
    let value = 0;
    for (let i = 0; i < 10000; i++) value = mt.nextUint32();
    expect(value).toBe(4123659995);
  });

  it('fmaf rounds once where a double sum would round twice', () => {
    const a = 2 ** -12 * (1 + 2 ** -23);
    const b = 2 ** -12 * (1 - 2 ** -23);
    const c = 1 + 2 ** -23;
    expect(Math.fround(a * b + c)).toBe(1 + 2 ** -22); // the double sum lands on a tie
    expect(fmaf(a, b, c)).toBe(1 + 2 ** -23);
    expect(fmaf(-a, b, -c)).toBe(-(1 + 2 ** -23));
    expect(fmaf(3, 5, 0.25)).toBe(15.25);
  });
});
