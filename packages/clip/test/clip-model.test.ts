import { TorchGenerator } from '@dalle2js/core';
import { checkGradients, checkModuleGradients, expectNoLeaks } from '@dalle2js/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIPModel, type CLIPTokenizer, contrastiveLoss, MAX_LOGIT_SCALE } from '../src/index.js';
import { disposeOutput, END, START, TINY, tinyImages, tinyModel, tinyTokenizer } from './tiny-clip.js';

let tokenizer: CLIPTokenizer;
beforeAll(async () => {
  tokenizer = await tinyTokenizer();
});

const texts = ['a photo of a red circle', 'two purple stars', ''];

describe('CLIPModel', () => {
  it('has Hugging Face parameter keys', () => {
    const model = tinyModel(0);
    try {
      const keys = [...model.namedParameters().keys()];
      for (const key of [
        'text_model.embeddings.token_embedding.weight',
        'text_model.embeddings.position_embedding.weight',
        'text_model.encoder.layers.0.self_attn.q_proj.weight',
        'text_model.encoder.layers.1.mlp.fc2.bias',
        'text_model.encoder.layers.1.layer_norm2.weight',
        'text_model.final_layer_norm.bias',
        'vision_model.embeddings.class_embedding',
        'vision_model.embeddings.patch_embedding.weight',
        'vision_model.embeddings.position_embedding.weight',
        'vision_model.pre_layrnorm.weight',
        'vision_model.encoder.layers.1.self_attn.out_proj.bias',
        'vision_model.post_layernorm.weight',
        'visual_projection.weight',
        'text_projection.weight',
        'logit_scale',
      ]) {
        expect(keys).toContain(key);
      }
      expect(keys.filter((k) => k.endsWith('projection.bias') || k.includes('patch_embedding.bias'))).toEqual(
        [],
      );
      expect(keys).toHaveLength(2 + 2 * 16 + 2 + 3 + 2 * 16 + 4 + 2 + 1);
    } finally {
      model.dispose();
    }
  });

  it('is initialised like Hugging Face CLIP and deterministically under a seed', async () => {
    const a = tinyModel(7);
    const b = tinyModel(7);
    const c = tinyModel(8);
    try {
      let differs = false;
      for (const [key, { variable }] of a.namedParameters()) {
        const other = b.namedParameters().get(key)!.variable;
        expect(Array.from(await variable.data()), key).toEqual(Array.from(await other.data()));
        const third = await c.namedParameters().get(key)!.variable.data();
        if (Array.from(await variable.data()).some((v, i) => v !== third[i])) differs = true;
      }
      expect(differs).toBe(true);
      const std = async (t: tf.Tensor) => Math.sqrt(tf.tidy(() => tf.mean(tf.square(t))).dataSync()[0]!);
      expect(await std(a.text_model.embeddings.token_embedding.weight)).toBeCloseTo(0.02, 2);
      expect(await std(a.text_model.encoder.layers.at(0).mlp.fc1.weight)).toBeCloseTo((2 * 16) ** -0.5, 1);
      expect(Array.from(await a.text_model.encoder.layers.at(0).self_attn.q_proj.bias!.data())).toEqual(
        new Array(16).fill(0),
      );
      expect(Array.from(await a.vision_model.post_layernorm.weight.data())).toEqual(new Array(12).fill(1));
      expect((await a.logit_scale.data())[0]).toBeCloseTo(2.6592, 5);
      const images = tinyImages(2);
      const ea = a.encodeImage(images);
      const eb = b.encodeImage(images);
      expect(Array.from(await ea.data())).toEqual(Array.from(await eb.data()));
      tf.dispose([images, ea, eb]);
    } finally {
      a.dispose();
      b.dispose();
      c.dispose();
    }
  });

  it('forward returns every output with consistent shapes and values', async () => {
    const model = tinyModel(1, tokenizer);
    const images = tinyImages(2);
    const out = model.forward({ text: texts, images });
    try {
      expect(out.logitsPerText.shape).toEqual([3, 2]);
      expect(out.logitsPerImage.shape).toEqual([2, 3]);
      expect(out.textEmbeds.shape).toEqual([3, 6]);
      expect(out.imageEmbeds.shape).toEqual([2, 6]);
      expect(out.textLastHiddenState.shape).toEqual([3, 8, 16]);
      expect(out.textPooledOutput.shape).toEqual([3, 16]);
      expect(out.visionLastHiddenState.shape).toEqual([2, 5, 12]);
      expect(out.visionPooledOutput.shape).toEqual([2, 12]);
      const norms = tf.tidy(() => tf.norm(out.textEmbeds, 'euclidean', -1));
      for (const n of await norms.data()) expect(n).toBeCloseTo(1, 5);
      norms.dispose();
      const expected = tf.tidy(() =>
        tf.mul(tf.matMul(out.textEmbeds, out.imageEmbeds, false, true), Math.exp(2.6592)),
      );
      expectClose(await out.logitsPerText.data(), await expected.data(), 1e-4);
      expected.dispose();
      const transposed = tf.transpose(out.logitsPerText);
      expectClose(await out.logitsPerImage.data(), await transposed.data(), 0);
      transposed.dispose();
      const features = model.encodeText(texts, { normalize: false });
      expectClose(await features.data(), await out.textFeatures.data(), 1e-6);
      features.dispose();
    } finally {
      disposeOutput(out);
      images.dispose();
      model.dispose();
    }
  });

  it('takes text as strings, id arrays (padded) or an int32 tensor, alike', async () => {
    const model = tinyModel(2, tokenizer);
    try {
      const rows = texts.map((t) => tokenizer.encode(t));
      expect(rows[2]).toEqual([START, END]); // an empty prompt is start + end
      const fromStrings = model.encodeText(texts);
      const fromArrays = model.encodeText(rows);
      const batch = tokenizer.encodeBatch(texts, { contextLength: 8 });
      const ids = tf.tensor2d(batch.ids, batch.shape, 'int32');
      const fromTensor = model.encodeText(ids);
      const reference = await fromStrings.data();
      expectClose(await fromArrays.data(), reference, 1e-6);
      expectClose(await fromTensor.data(), reference, 1e-6);
      tf.dispose([fromStrings, fromArrays, ids, fromTensor]);
    } finally {
      model.dispose();
    }
  });

  it('pools at the first end token, or at the largest id when the config names none', async () => {
    const withEos = tinyModel(3, undefined, {
      ...TINY,
      text_config: { ...TINY.text_config, eos_token_id: 5 },
    });
    const legacy = tinyModel(3, undefined, {
      ...TINY,
      text_config: { ...TINY.text_config, eos_token_id: 2 },
    });
    const ids = tf.tensor2d([[1, 7, 5, 9, 5]], [1, 5], 'int32');
    try {
      for (const [model, position] of [
        [withEos, 2],
        [legacy, 3],
      ] as const) {
        const out = model.text_model.apply(ids);
        const row = tf.tidy(() =>
          tf.squeeze(tf.slice(out.lastHiddenState, [0, position, 0], [1, 1, -1]), [1]),
        );
        expectClose(await out.pooledOutput.data(), await row.data(), 0);
        tf.dispose([out.lastHiddenState, out.pooledOutput, row]);
      }
    } finally {
      ids.dispose();
      withEos.dispose();
      legacy.dispose();
    }
  });

  it('gives the same pooled text with and without the attention mask (attention is causal)', async () => {
    const model = tinyModel(4, tokenizer);
    const batch = tokenizer.encodeBatch(texts, { contextLength: 8 });
    const ids = tf.tensor2d(batch.ids, batch.shape, 'int32');
    const mask = tf.tensor2d(batch.attentionMask, batch.shape, 'int32');
    try {
      const masked = model.encodeText(ids, { attentionMask: mask });
      const unmasked = model.encodeText(ids);
      expectClose(await masked.data(), await unmasked.data(), 1e-6);
      tf.dispose([masked, unmasked]);
    } finally {
      tf.dispose([ids, mask]);
      model.dispose();
    }
  });

  it('similarity is cosine similarity, zero-shot gives probabilities, and the logit scale is clamped at 100', async () => {
    const model = tinyModel(5, tokenizer);
    const images = tinyImages(2);
    try {
      const sim = model.similarity(texts, images);
      expect(sim.shape).toEqual([3, 2]);
      for (const v of await sim.data()) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-6);
      const probs = model.zeroShotClassify(images, ['red', 'green', 'blue'], { template: 'a photo of a {}' });
      expect(probs.shape).toEqual([2, 3]);
      const sums = tf.sum(probs, -1);
      expectClose(await sums.data(), [1, 1], 1e-6);
      const scale = model.logitScale();
      expect((await scale.data())[0]).toBeCloseTo(Math.exp(2.6592), 4);
      model.logit_scale.assign(tf.scalar(10));
      const clamped = model.logitScale();
      expect((await clamped.data())[0]).toBe(MAX_LOGIT_SCALE);
      tf.dispose([sim, probs, sums, scale, clamped]);
    } finally {
      images.dispose();
      model.dispose();
    }
  });

  it('refuses bad input with errors that say what was expected', async () => {
    const model = tinyModel(6, tokenizer);
    const bare = tinyModel(6);
    const images = tinyImages(1);
    const big = tinyImages(1, 16);
    const gray = tinyImages(1, 8, 1);
    const floatIds = tf.zeros([1, 4]);
    const longIds = tf.zeros([1, 9], 'int32');
    try {
      expect(() => model.encodeText([42 as never])).toThrow(
        'text[0] must be a string or a non-empty array of ids, got number',
      );
      expect(() => model.encodeText(['ok', null as never])).toThrow(
        'text[1] must be a string or a non-empty array of ids, got null',
      );
      expect(() => model.encodeText(['ok', [1, 2]] as never)).toThrow('mix strings and id arrays');
      expect(() => model.encodeText([])).toThrow('non-empty array');
      expect(() => model.encodeText('a cat' as never)).toThrow('non-empty array');
      expect(() => bare.encodeText(['a cat'])).toThrow('need a tokenizer');
      expect(() => model.encodeText([[START, 645, END]])).toThrow('id 645, outside the vocabulary [0, 645)');
      expect(() => model.encodeText([new Array(9).fill(1)])).toThrow('9 ids, more than the context length 8');
      expect(() => model.encodeText(floatIds)).toThrow(
        'expected int32 ids of shape [B, T], got float32 [1, 4]',
      );
      expect(() => model.encodeText(longIds)).toThrow('1 <= T <= 8');
      expect(() => model.encodeImage(big)).toThrow(
        'expected images of shape [B, 8, 8, 3] (NHWC), got [1, 16, 16, 3]',
      );
      expect(() => model.encodeImage(gray)).toThrow(
        'expected images of shape [B, 8, 8, 3] (NHWC), got [1, 8, 8, 1]',
      );
      expect(() => model.forward({ text: texts, images: tf.squeeze(images, [0]) })).toThrow('[B, 8, 8, 3]');
      expect(() => model.zeroShotClassify(images, [])).toThrow('non-empty array of label strings');
      expect(() => contrastiveLoss(tf.zeros([2, 3]))).toThrow('expected square logits [N, N]');
      expect(() => new CLIPModel(TINY, { init: 'xavier' as never })).toThrow('valid: clip, zeros');
    } finally {
      tf.dispose([images, big, gray, floatIds, longIds]);
      model.dispose();
      bare.dispose();
    }
  });

  it('truncates over-long texts keeping the end token, with one warning', async () => {
    const warnings: string[] = [];
    const model = tinyModel(6, await tinyTokenizer(warnings));
    try {
      const long = 'a drawing of a smiling face with sunglasses and a red apple';
      const embeds = model.encodeText([long, `${long} again`, 'short']);
      expect(embeds.shape).toEqual([3, 6]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('truncated');
      const cut = [...model.tokenizer!.encode(long).slice(0, 7), END];
      const fromIds = model.encodeText([cut]);
      expectClose((await embeds.data()).slice(0, 6), await fromIds.data(), 1e-6);
      tf.dispose([embeds, fromIds]);
    } finally {
      model.dispose();
    }
  });

  it('leaves no tensors behind on any public call', async () => {
    const model = tinyModel(9, tokenizer);
    const images = tinyImages(2);
    const ids = tf.tensor2d([[START, 320, END, END]], [1, 4], 'int32');
    const mask = tf.tensor2d([[1, 1, 1, 0]], [1, 4], 'int32');
    const big = tinyImages(1, 16);
    try {
      await expectNoLeaks(() => model.encodeText(texts));
      await expectNoLeaks(() => model.encodeText([[START, END]], { normalize: false }));
      await expectNoLeaks(() => model.encodeText(ids, { attentionMask: mask }));
      await expectNoLeaks(() => model.encodeImage(images));
      await expectNoLeaks(() => model.similarity(texts, images));
      await expectNoLeaks(() => model.zeroShotClassify(images, ['red', 'blue']));
      await expectNoLeaks(() => model.logitScale());
      await expectNoLeaks(() => {
        const { ids: t, attentionMask } = model.tokenize(texts);
        return [t, attentionMask!];
      });
      await expectNoLeaks(() => Object.values(model.forward({ text: texts, images })));
      await expectNoLeaks(() => Object.values(model.forward({ text: ids, attentionMask: mask, images })));
      await expectNoLeaks(() => {
        const out = model.forward({ text: texts.slice(0, 2), images });
        const loss = contrastiveLoss(out.logitsPerText);
        disposeOutput(out);
        return loss;
      });
      await expectNoLeaks(() => {
        try {
          model.forward({ text: texts, images: big });
        } catch {
          // the error path must not leak either
        }
      });
      await expectNoLeaks(() => tinyModel(10).dispose());
    } finally {
      tf.dispose([images, ids, mask, big]);
      model.dispose();
    }
  });
});

describe('contrastiveLoss', () => {
  it('is the mean of the text-to-image and image-to-text cross-entropies', async () => {
    const logits = [
      [2, 0.5, -1],
      [0, 1, 3],
      [1, 1, 0],
    ];
    const ce = (rows: number[][]) =>
      rows.reduce((sum, row, i) => sum - (row[i]! - Math.log(row.reduce((s, v) => s + Math.exp(v), 0))), 0) /
      rows.length;
    const columns = logits.map((_, j) => logits.map((row) => row[j]!));
    const expected = (ce(logits) + ce(columns)) / 2;
    const loss = contrastiveLoss(tf.tensor2d(logits));
    expect((await loss.data())[0]).toBeCloseTo(expected, 5);
    loss.dispose();
    const x = tf.tensor2d(logits);
    expect(checkGradients(([l]) => contrastiveLoss(l!), [x], { tolerance: 1e-2 })).toBeLessThan(1e-2);
    x.dispose();
  });
});

describe('gradients', () => {
  it('match finite differences for every parameter of a tiny CLIP under the contrastive loss', () => {
    const model = new CLIPModel(
      {
        text_config: {
          vocab_size: 12,
          hidden_size: 8,
          intermediate_size: 16,
          num_hidden_layers: 1,
          num_attention_heads: 2,
          max_position_embeddings: 5,
          eos_token_id: 11,
        },
        vision_config: {
          hidden_size: 8,
          intermediate_size: 16,
          num_hidden_layers: 1,
          num_attention_heads: 2,
          image_size: 4,
          patch_size: 2,
        },
        projection_dim: 4,
      },
      { rng: new TorchGenerator(11) },
    );
    // Larger weights than CLIP's init, so that every gradient is well above float32 noise.
    for (const { variable } of model.namedParameters().values()) {
      if (variable.rank > 0)
        tf.tidy(() =>
          variable.assign(tf.add(variable, tf.mul(tf.randomNormal(variable.shape, 0, 1, 'float32', 3), 0.3))),
        );
    }
    const ids = tf.tensor2d(
      [
        [10, 3, 11, 11, 11],
        [10, 7, 2, 5, 11],
        [10, 11, 11, 11, 11],
      ],
      [3, 5],
      'int32',
    );
    const images = tinyImages(3, 4);
    try {
      const error = checkModuleGradients(
        model,
        () =>
          tf.tidy(() => {
            const out = model.forward({ text: ids, images });
            return contrastiveLoss(out.logitsPerText);
          }),
        { tolerance: 2e-2, entriesPerParameter: 4 },
      );
      expect(error).toBeLessThan(2e-2);
    } finally {
      tf.dispose([ids, images]);
      model.dispose();
    }
  });
});

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThanOrEqual(tolerance);
}
