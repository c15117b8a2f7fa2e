import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  getStateDict,
  loadModuleWeights,
  loadStateDict,
  saveModuleWeights,
  TorchGenerator,
} from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { UNet } from '../src/index.js';
import { disposeInputs, maxAbsDiff, randomInputs, randomUNet } from './helpers.js';
import { TINY, TINY_FULL } from './tiny-config.js';

describe('parameter names', () => {
  test('follow diffusers UNet2DConditionModel, in registration order', () => {
    const keys = [...new UNet(TINY, { rng: new TorchGenerator(0) }).namedParameters().keys()];
    expect(keys.slice(0, 8)).toEqual([
      'time_embedding.linear_1.weight',
      'time_embedding.linear_1.bias',
      'time_embedding.linear_2.weight',
      'time_embedding.linear_2.bias',
      'cond_proj.null_image_embed',
      'cond_proj.image_to_time.weight',
      'cond_proj.image_to_time.bias',
      'cond_proj.image_to_tokens.weight',
    ]);
    for (const key of [
      'conv_in.weight',
      'down_blocks.0.resnets.0.norm1.weight',
      'down_blocks.0.resnets.0.conv1.weight',
      'down_blocks.0.resnets.0.time_emb_proj.weight',
      'down_blocks.0.resnets.0.norm2.bias',
      'down_blocks.0.resnets.0.conv2.bias',
      'down_blocks.0.downsamplers.0.conv.weight',
      'down_blocks.1.resnets.0.conv_shortcut.weight',
      'down_blocks.1.attentions.0.norm1.weight',
      'down_blocks.1.attentions.0.attn1.q_proj.weight',
      'down_blocks.1.attentions.0.norm2.weight',
      'down_blocks.1.attentions.0.attn2.k_proj.weight',
      'mid_block.resnets.1.conv2.weight',
      'mid_block.attentions.0.attn2.out_proj.bias',
      'up_blocks.0.resnets.1.conv_shortcut.weight',
      'up_blocks.0.attentions.1.attn1.v_proj.weight',
      'up_blocks.0.upsamplers.0.conv.weight',
      'up_blocks.1.resnets.1.conv1.weight',
      'conv_norm_out.weight',
      'conv_out.bias',
    ]) {
      expect(keys).toContain(key);
    }
    // Level 0 has no attention; the last level neither downsamples nor (as up_blocks.1) upsamples.
    expect(keys.some((k) => k.startsWith('down_blocks.0.attentions'))).toBe(false);
    expect(keys.some((k) => k.startsWith('down_blocks.1.downsamplers'))).toBe(false);
    expect(keys.some((k) => k.startsWith('up_blocks.1.upsamplers'))).toBe(false);
  });

  test('text conditioning adds its projection, norm and null tokens', () => {
    const keys = [...new UNet(TINY_FULL, { rng: new TorchGenerator(0) }).namedParameters().keys()];
    for (const key of [
      'cond_proj.null_text_tokens',
      'cond_proj.text_to_context.weight',
      'cond_proj.text_norm.weight',
    ]) {
      expect(keys).toContain(key);
    }
  });
});

describe('state dict round trip', () => {
  test('getStateDict / loadStateDict into a differently seeded UNet gives identical outputs', async () => {
    const source = randomUNet(TINY_FULL, 0);
    const target = randomUNet(TINY_FULL, 1);
    const inputs = randomInputs(source, 2, 8);
    const expected = source.apply(inputs.x, inputs.timesteps, inputs.cond);
    const before = target.apply(inputs.x, inputs.timesteps, inputs.cond);
    expect(await maxAbsDiff(expected, before)).toBeGreaterThan(1e-3);

    const stateDict = await getStateDict(source);
    // PyTorch layouts: OIHW convolutions, [out, in] linear weights.
    expect(stateDict.get('conv_in.weight')?.shape).toEqual([8, 6, 3, 3]);
    expect(stateDict.get('cond_proj.image_to_time.weight')?.shape).toEqual([32, 6]);
    expect(loadStateDict(target, stateDict)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const after = target.apply(inputs.x, inputs.timesteps, inputs.cond);
    expect(await after.data()).toEqual(await expected.data());
    tf.dispose([expected, before, after]);
    disposeInputs(inputs);
    source.dispose();
    target.dispose();
  });

  test('saveModuleWeights / loadModuleWeights through a safetensors file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unet-weights-'));
    const source = randomUNet(TINY, 2);
    const target = new UNet(TINY, { rng: new TorchGenerator(3) });
    const inputs = randomInputs(source, 1, 8);
    try {
      const path = join(dir, 'unet.safetensors');
      await saveModuleWeights(source, path);
      await loadModuleWeights(target, path);
      const [a, b] = [source, target].map((m) => m.apply(inputs.x, inputs.timesteps, inputs.cond));
      expect(await b!.data()).toEqual(await a!.data());
      tf.dispose([a!, b!]);
    } finally {
      disposeInputs(inputs);
      source.dispose();
      target.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a checkpoint of another configuration is refused with the mismatching keys', async () => {
    const small = new UNet(TINY, { rng: new TorchGenerator(0) });
    const other = new UNet(
      { ...TINY, dim: 16, contextDim: 16, attentionHeadDim: 16 },
      { rng: new TorchGenerator(0) },
    );
    const stateDict = await getStateDict(other);
    expect(() => loadStateDict(small, stateDict)).toThrow(/conv_in\.weight/);
    small.dispose();
    other.dispose();
  });
});
