import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { activation, activationNames, gelu, geluTanh, quickGelu, silu } from '../src/layers/index.js';
import { checkGradients, expectNoLeaks } from '../src/testing/index.js';

const xs = [-3, -1, -0.5, 0, 0.5, 1, 2.5];
// Φ(x) from a reference table (exact GELU = x Φ(x)).
const PHI: Record<number, number> = {
  [-3]: 0.0013498980316301035,
  [-1]: 0.15865525393145707,
  [-0.5]: 0.3085375387259869,
  0: 0.5,
  0.5: 0.6914624612740131,
  1: 0.8413447460685429,
  2.5: 0.9937903346742238,
};
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

const cases: [string, (x: tf.Tensor) => tf.Tensor, (v: number) => number][] = [
  ['gelu', gelu, (v) => v * PHI[v]!],
  ['quickGelu', quickGelu, (v) => v * sigmoid(1.702 * v)],
  ['geluTanh', geluTanh, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))],
  ['silu', silu, (v) => v * sigmoid(v)],
];

describe('activations', () => {
  for (const [name, fn, reference] of cases) {
    test(`${name} matches its formula, has correct gradients and leaks nothing`, async () => {
      const x = tf.tensor1d(xs);
      const y = fn(x);
      const out = y.dataSync();
      expect(Array.from(out)).toEqual(xs.map((v) => expect.closeTo(reference(v), 6)));
      expect(checkGradients(([input]) => tf.sum(fn(input!)), [x])).toBeLessThan(1e-2);
      await expectNoLeaks(() => fn(x));
      tf.dispose([x, y]);
    });
  }

  test('gelu and geluTanh differ (the exact one uses erf)', () => {
    const x = tf.scalar(-1);
    const exact = gelu(x);
    const approx = geluTanh(x);
    expect(Math.abs(exact.dataSync()[0]! - approx.dataSync()[0]!)).toBeGreaterThan(1e-4);
    tf.dispose([x, exact, approx]);
  });

  test('activation() looks names up and lists the valid ones on a typo', () => {
    expect(activationNames).toEqual(['gelu', 'quick_gelu', 'gelu_tanh', 'silu']);
    expect(activation('quick_gelu')).toBe(quickGelu);
    expect(activation('gelu_tanh')).toBe(geluTanh);
    expect(() => activation('relu')).toThrow(
      'Unknown activation "relu"; valid: gelu, quick_gelu, gelu_tanh, silu',
    );
    expect(() => activation('toString')).toThrow(/Unknown activation/);
  });
});
