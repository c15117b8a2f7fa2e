import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { Module } from '../src/nn/module.js';
import { expectNoLeaks } from '../src/testing/index.js';
import { EMA } from '../src/train/index.js';

class Pair extends Module {
  readonly weight: tf.Variable;
  readonly table: tf.Variable;
  constructor(values: number[]) {
    super();
    this.weight = tf.tidy(() => this.addParameter('weight', tf.tensor1d(values)));
    // a buffer: not averaged
    this.table = tf.tidy(() => this.addParameter('table', tf.tensor1d([7]), 'same', false));
  }
}

const read = (v: tf.Tensor) => Array.from(v.dataSync());

describe('EMA', () => {
  test('averages with a fixed decay', () => {
    const module = new Pair([1, 2]);
    const ema = new EMA(module, { decay: 0.9 });
    module.weight.assign(tf.tensor1d([2, 0]));
    ema.update(); // 0.9 * [1, 2] + 0.1 * [2, 0] = [1.1, 1.8]
    module.weight.assign(tf.tensor1d([3, 1]));
    ema.update(); // 0.9 * [1.1, 1.8] + 0.1 * [3, 1] = [1.29, 1.72]
    expect(ema.step).toBe(2);
    const state = ema.exportState();
    expect([...state.keys()]).toEqual(['step', 'shadow.weight']);
    const shadow = read(state.get('shadow.weight')!);
    expect(shadow[0]).toBeCloseTo(1.29, 6);
    expect(shadow[1]).toBeCloseTo(1.72, 6);
    tf.dispose([...state.values()]);
    ema.dispose();
    module.dispose();
  });

  test('warm-up uses min(decay, (1 + n) / (10 + n))', () => {
    const module = new Pair([0, 0]);
    const ema = new EMA(module, { decay: 0.25, warmup: true });
    expect(ema.currentDecay()).toBeCloseTo(0.1, 12);
    module.weight.assign(tf.tensor1d([10, 20]));
    ema.update(); // d = 0.1: [9, 18]
    expect(ema.currentDecay()).toBeCloseTo(2 / 11, 12);
    ema.update(); // d = 2/11: 9 + (9/11) * 1 = 9.8181...
    expect(ema.currentDecay()).toBe(0.25); // 3/12 = 0.25 = decay
    ema.copyTo();
    expect(module.weight.dataSync()[0]).toBeCloseTo(9 + 9 / 11, 5);
    expect(module.weight.dataSync()[1]).toBeCloseTo(18 + 18 / 11, 4);
    ema.dispose();
    module.dispose();
  });

  test('swap exchanges weights and swaps back; copyTo writes into another module by name', () => {
    const module = new Pair([1, 1]);
    const ema = new EMA(module, { decay: 0.5 });
    module.weight.assign(tf.tensor1d([3, 5]));
    ema.update(); // [2, 3]
    ema.swap();
    expect(read(module.weight)).toEqual([2, 3]);
    ema.swap();
    expect(read(module.weight)).toEqual([3, 5]);
    const other = new Pair([0, 0]);
    ema.copyTo(other);
    expect(read(other.weight)).toEqual([2, 3]);
    expect(read(other.table)).toEqual([7]);
    const wrong = new (class extends Module {
      constructor() {
        super();
        tf.tidy(() => this.addParameter('weight', tf.zeros([3])));
      }
    })();
    expect(() => ema.copyTo(wrong)).toThrow(/"weight" has shape \[3\], EMA has \[2\]/);
    for (const m of [wrong, other, module]) m.dispose();
    ema.dispose();
  });

  test('state round-trips and mismatched keys are named', async () => {
    const module = new Pair([1, 2]);
    const ema = new EMA(module, { decay: 0.9 });
    module.weight.assign(tf.tensor1d([2, 0]));
    ema.update();
    const state = ema.exportState();
    const fresh = new EMA(module, { decay: 0.9 });
    await fresh.importState(state);
    expect(fresh.step).toBe(1);
    const other = new Pair([0, 0]);
    fresh.copyTo(other);
    expect(other.weight.dataSync()[0]).toBeCloseTo(1.1, 6);
    const broken = new Map([['shadow.nope', state.get('shadow.weight')!]]);
    await expect(fresh.importState(broken)).rejects.toThrow(
      /missing keys \[step, shadow.weight\], unknown keys \[shadow.nope\]/,
    );
    tf.dispose([...state.values()]);
    module.dispose();
    other.dispose();
    ema.dispose();
    fresh.dispose();
  });

  test('update, swap, copyTo and state calls leak nothing; dispose frees the shadow', async () => {
    const module = new Pair([1, 2]);
    const before = tf.memory().numTensors;
    const ema = new EMA(module);
    expect(tf.memory().numTensors).toBe(before + 1);
    await expectNoLeaks(() => ema.update());
    await expectNoLeaks(() => ema.swap());
    await expectNoLeaks(() => ema.copyTo());
    await expectNoLeaks(async () => {
      const state = ema.exportState();
      await ema.importState(state);
      tf.dispose([...state.values()]);
    });
    ema.dispose();
    expect(tf.memory().numTensors).toBe(before);
    module.dispose();
  });
});
