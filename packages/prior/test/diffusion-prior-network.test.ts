import { TorchGenerator } from '@dalle2js/core';
import { checkModuleGradients, expectNoLeaks } from '@dalle2js/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { DiffusionPriorNetwork, type DiffusionPriorNetworkInputs } from '../src/index.js';

const config = { dim: 16, depth: 2, heads: 2, numTextTokens: 5, textEncodingDim: 12, mlpRatio: 2 };
const network = new DiffusionPriorNetwork(config, { rng: new TorchGenerator(0) });
afterAll(() => network.dispose());

function inputs(b: number, seed: number, length = 5): DiffusionPriorNetworkInputs {
  const g = new TorchGenerator(seed);
  return {
    imageEmbed: g.randnTensor([b, 16]),
    timesteps: tf.tensor1d(
      Array.from({ length: b }, (_, i) => (i * 7) % 100),
      'int32',
    ),
    textEmbed: g.randnTensor([b, 16]),
    textEncodings: g.randnTensor([b, length, 12]),
    textMask: tf.tensor2d(
      Array.from({ length: b * length }, (_, i) => (i % length < length - 1 || i < length ? 1 : 0)),
      [b, length],
    ),
  };
}

function disposeInputs(x: DiffusionPriorNetworkInputs): void {
  tf.dispose(Object.values(x) as tf.Tensor[]);
}

/** Replace row `row` of a [B, ...] tensor's position `position` along axis 1 by fresh noise. */
function perturb(t: tf.Tensor, position: number): tf.Tensor {
  return tf.tidy(() => {
    const values = t.arraySync() as number[][] | number[][][];
    const row = values[0]![position]!;
    if (Array.isArray(row)) (values[0]![position] as number[]) = row.map((v) => v + 1.5);
    else (values[0] as number[])[position] = (row as number) + 1.5;
    return tf.tensor(values as number[][]);
  });
}

describe('DiffusionPriorNetwork', () => {
  it('predicts [B, dim] from the query token and names its parameters like a checkpoint', () => {
    const x = inputs(3, 1);
    const out = network.apply(x);
    const all = network.applyAllPositions(x);
    expect(out.shape).toEqual([3, 16]);
    expect(all.shape).toEqual([3, network.sequenceLength, 16]);
    expect(network.sequenceLength).toBe(5 + 4);
    const last = tf.slice(all, [0, 8, 0], [3, 1, 16]);
    expect(Array.from(out.dataSync())).toEqual(Array.from(last.dataSync()));
    const names = [...network.namedParameters().keys()];
    expect(names).toContain('layers.1.self_attn.q_proj.weight');
    expect(names).toContain('layers.0.mlp.fc2.bias');
    expect(names).toContain('text_encodings_proj.weight');
    expect(names).toContain('null_text_encodings');
    expect(names).toContain('null_text_embed');
    expect(names).toContain('learned_query');
    expect(names).toContain('positional_embedding');
    expect(names).toContain('final_layer_norm.weight');
    expect(names).toContain('proj_out.weight');
    expect(network.namedParameters().get('positional_embedding')!.variable.shape).toEqual([9, 16]);
    tf.dispose([out, all, last]);
    disposeInputs(x);
  });

  it('is causal: a token never changes the outputs at earlier positions', async () => {
    const base = inputs(1, 2);
    const before = (await network.applyAllPositions(base).array()) as number[][][];
    const cases: [string, Partial<DiffusionPriorNetworkInputs>, number][] = [
      // [what changed, inputs, its position in the sequence]
      ['text encoding 1', { textEncodings: perturb(base.textEncodings!, 1) }, 1],
      ['text encoding 3', { textEncodings: perturb(base.textEncodings!, 3) }, 3],
      ['text embedding', { textEmbed: perturb(base.textEmbed, 0) }, 5],
      ['timestep', { timesteps: tf.tensor1d([42], 'int32') }, 6],
      ['image embedding', { imageEmbed: perturb(base.imageEmbed, 0) }, 7],
    ];
    for (const [what, change, position] of cases) {
      const out = network.applyAllPositions({ ...base, ...change });
      const after = (await out.array()) as number[][][];
      out.dispose();
      for (let i = 0; i < network.sequenceLength; i++) {
        const same = after[0]![i]!.every((v, k) => v === before[0]![i]![k]);
        expect(same, `${what} at ${position}, output position ${i}`).toBe(i < position);
      }
      tf.dispose(Object.values(change) as tf.Tensor[]);
    }
    disposeInputs(base);
  });

  it('replaces padding and dropped conditioning by the learned null tokens', async () => {
    const x = inputs(2, 3, 3);
    const reference = await network.apply(x).array();
    // Padding (mask 0 in row 1's last token) is ignored whatever it holds.
    const maskedChanged = tf.tidy(() => {
      const enc = x.textEncodings!.arraySync() as number[][][];
      enc[1]![2] = enc[1]![2]!.map((v) => v * -3 + 1);
      return network.apply({ ...x, textEncodings: tf.tensor(enc) }).arraySync();
    });
    expect(maskedChanged).toEqual(reference);
    // Shorter sequences are padded to numTextTokens: explicit zero padding with mask 0 is the same.
    const padded = tf.tidy(() =>
      network
        .apply({
          ...x,
          textEncodings: tf.pad(x.textEncodings!, [
            [0, 0],
            [0, 2],
            [0, 0],
          ]),
          textMask: tf.pad(x.textMask!, [
            [0, 0],
            [0, 2],
          ]),
        })
        .arraySync(),
    );
    expect(padded).toEqual(reference);
    // With textKeep = 0 the text embedding and encodings are not read at all.
    const dropped = tf.tidy(() => {
      const keep = tf.tensor1d([0, 1]);
      const a = network.apply({ ...x, textKeep: keep }).arraySync() as number[][];
      const other = inputs(2, 99, 3);
      const b = network.apply({ ...other, imageEmbed: x.imageEmbed, timesteps: x.timesteps, textKeep: keep });
      return [a, b.arraySync() as number[][]];
    });
    expect(dropped[0]![0]).toEqual(dropped[1]![0]);
    expect(dropped[0]![1]).not.toEqual(dropped[1]![1]);
    expect(dropped[0]![1]).toEqual((reference as number[][])[1]);
    // No encodings at all = every text token is the null token.
    const none = tf.tidy(() =>
      network.apply({ imageEmbed: x.imageEmbed, timesteps: x.timesteps, textEmbed: x.textEmbed }).arraySync(),
    );
    const allMasked = tf.tidy(() => network.apply({ ...x, textMask: tf.zerosLike(x.textMask!) }).arraySync());
    expect(none).toEqual(allMasked);
    disposeInputs(x);
  });

  it('has gradients that match finite differences', () => {
    const tiny = new DiffusionPriorNetwork(
      { dim: 8, depth: 1, heads: 2, numTextTokens: 2, textEncodingDim: 4, mlpRatio: 2 },
      { rng: new TorchGenerator(5) },
    );
    const g = new TorchGenerator(6);
    const x: DiffusionPriorNetworkInputs = {
      imageEmbed: g.randnTensor([2, 8]),
      timesteps: tf.tensor1d([3, 40]),
      textEmbed: g.randnTensor([2, 8]),
      textEncodings: g.randnTensor([2, 2, 4]),
      textMask: tf.tensor2d([1, 1, 1, 0], [2, 2]),
      textKeep: tf.tensor1d([1, 0]),
    };
    const weights = g.randnTensor([2, 8]);
    // In float32 a step of 1e-2 keeps the rounding error of the difference well under the tolerance.
    const error = checkModuleGradients(tiny, () => tf.sum(tf.mul(tiny.apply(x), weights)) as tf.Scalar, {
      eps: 1e-2,
      entriesPerParameter: 4,
    });
    expect(error).toBeLessThan(1e-2);
    tf.dispose([weights]);
    disposeInputs(x);
    tiny.dispose();
  });

  it('leaks no tensors', async () => {
    const x = inputs(2, 4);
    await expectNoLeaks(() => network.apply(x));
    await expectNoLeaks(() => network.applyAllPositions(x));
    disposeInputs(x);
  });

  it('rejects inputs of the wrong size with the expected shape in the message', () => {
    const x = inputs(2, 5);
    const wrong = tf.zeros([2, 15]);
    expect(() => network.apply({ ...x, textEmbed: wrong })).toThrow(
      /textEmbed of shape \[B, 16\], got \[2, 15\]/,
    );
    expect(() => network.apply({ ...x, imageEmbed: wrong })).toThrow(
      /imageEmbed of shape \[2, 16\], got \[2, 15\]/,
    );
    const long = tf.zeros([2, 6, 12]);
    expect(() => network.apply({ ...x, textEncodings: long, textMask: undefined })).toThrow(/L <= 5, 12\]/);
    const narrow = tf.zeros([2, 5, 11]);
    expect(() => network.apply({ ...x, textEncodings: narrow })).toThrow(/got \[2, 5, 11\]/);
    expect(() => network.apply({ ...x, timesteps: tf.zeros([3]) })).toThrow(/timesteps of shape \[2\]/);
    tf.dispose([wrong, long, narrow]);
    disposeInputs(x);
  });

  it('validates its config once, naming the valid values', () => {
    expect(() => new DiffusionPriorNetwork({ dim: 10, heads: 3 })).toThrow(
      /heads \(3\) must divide dim \(10\)/,
    );
    expect(() => new DiffusionPriorNetwork({ activation: 'relu' as never })).toThrow(/valid: .*gelu/);
    expect(() => new DiffusionPriorNetwork({ width: 4 } as never)).toThrow(
      /unknown config field "width"; valid:/,
    );
    expect(() => new DiffusionPriorNetwork({ depth: 0 })).toThrow(/depth must be a positive integer/);
  });
});
