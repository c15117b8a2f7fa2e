import { AdamW, TorchGenerator, trainStep } from '@dalle2js/core';
import { expectNoLeaks } from '@dalle2js/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { UNet } from '../src/index.js';
import { disposeInputs, randomInputs, randomUNet } from './helpers.js';
import { TINY_FULL } from './tiny-config.js';

describe('no tensor leaks', () => {
  let unet: UNet;
  let inputs: ReturnType<typeof randomInputs>;
  beforeAll(() => {
    unet = randomUNet(TINY_FULL);
    inputs = randomInputs(unet, 2, 8);
  });
  afterAll(() => {
    disposeInputs(inputs);
    unet.dispose();
  });

  test('forward', async () => {
    await expectNoLeaks(() => unet.apply(inputs.x, inputs.timesteps, inputs.cond));
    const t = tf.tensor1d(inputs.timesteps, 'int32');
    const keep = tf.tensor1d([1, 0]);
    await expectNoLeaks(() => unet.apply(inputs.x, t, inputs.cond, { condKeepMask: keep }));
    await expectNoLeaks(() =>
      unet.apply(inputs.x, 3, inputs.cond, { condDropProb: 0.5, rng: new TorchGenerator(0) }),
    );
    tf.dispose([t, keep]);
  });

  test('guided forward', async () => {
    await expectNoLeaks(() => unet.forwardWithGuidance(inputs.x, inputs.timesteps, inputs.cond, 3));
  });

  test('a failed call', async () => {
    await expectNoLeaks(() => {
      try {
        unet.apply(inputs.x, [1, 2, 3], inputs.cond);
      } catch {
        // expected: wrong number of timesteps
      }
    });
  });

  test('training step (gradients, clipping, AdamW)', async () => {
    const optimizer = new AdamW(unet, { lr: 1e-4 });
    const noise = new TorchGenerator(4).randnTensor(inputs.x.shape);
    await expectNoLeaks(() =>
      trainStep(
        unet,
        () =>
          tf.tidy(() => {
            const prediction = unet.apply(inputs.x, inputs.timesteps, inputs.cond, {
              condDropProb: 0.5,
              rng: new TorchGenerator(1),
            });
            return tf.mean(
              tf.square(tf.sub(tf.slice(prediction, [0, 0, 0, 0], [-1, -1, -1, 3]), noise)),
            ) as tf.Scalar;
          }),
        optimizer,
        { clip: 1 },
      ),
    );
    noise.dispose();
    optimizer.dispose();
  });
});
