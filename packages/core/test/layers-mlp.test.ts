import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { activation, MLP } from '../src/layers/index.js';
import { TorchGenerator } from '../src/random/index.js';
import { checkGradients, checkModuleGradients, expectNoLeaks } from '../src/testing/index.js';

const gen = new TorchGenerator(0);

describe('MLP', () => {
  test('names its layers fc1 and fc2, like CLIPMLP', () => {
    const mlp = new MLP(4, 8, { rng: gen });
    expect([...mlp.namedParameters().keys()]).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(mlp.fc1.weight.shape).toEqual([4, 8]);
    expect(mlp.fc2.weight.shape).toEqual([8, 4]);
    const wide = new MLP(4, 8, { outDim: 6, rng: gen });
    expect(wide.fc2.weight.shape).toEqual([8, 6]);
    mlp.dispose();
    wide.dispose();
  });

  for (const name of ['gelu', 'quick_gelu', 'gelu_tanh', 'silu'] as const) {
    test(`computes fc2(${name}(fc1(x)))`, () => {
      const mlp = new MLP(3, 5, { activation: name, outDim: 2, rng: gen });
      const x = gen.randnTensor([2, 4, 3]);
      const y = mlp.apply(x);
      expect(y.shape).toEqual([2, 4, 2]);
      const expected = tf.tidy(() => mlp.fc2.apply(activation(name)(mlp.fc1.apply(x))));
      const h = tf.tidy(() => tf.add(tf.matMul(tf.reshape(x, [8, 3]), mlp.fc1.weight), mlp.fc1.bias!));
      // the hidden layer really went through the activation
      expect(Array.from(expected.dataSync())).not.toEqual(
        Array.from(tf.tidy(() => mlp.fc2.apply(h)).dataSync()),
      );
      expect(Array.from(y.dataSync())).toEqual(Array.from(expected.dataSync()));
      tf.dispose([x, y, expected, h]);
      mlp.dispose();
    });
  }

  test('gradients match finite differences; no leaks; bad activation names are listed', async () => {
    const mlp = new MLP(3, 4, { rng: gen });
    const x = gen.randnTensor([2, 3]);
    const r = gen.randnTensor([2, 3]);
    const loss = (input: tf.Tensor) => tf.sum(tf.mul(mlp.apply(input), r)) as tf.Scalar;
    expect(checkGradients(([input]) => loss(input!), [x])).toBeLessThan(1e-2);
    expect(checkModuleGradients(mlp, () => loss(x))).toBeLessThan(1e-2);
    await expectNoLeaks(() => mlp.apply(x));
    expect(() => new MLP(3, 4, { activation: 'relu' as 'gelu' })).toThrow(/valid: gelu, quick_gelu/);
    const wrong = tf.zeros([2, 4]);
    expect(() => mlp.apply(wrong)).toThrow('Linear: expected input with last dimension 3, got shape [2, 4]');
    tf.dispose([x, r, wrong]);
    mlp.dispose();
  });
});
