import { TorchGenerator } from '@dalle2js/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { applyGuidance, DDIMScheduler, DDPMScheduler, type SampleProgress, sample } from '../src/index.js';

const SHAPE = [2, 4, 4, 3];

function ddim(steps = 5): DDIMScheduler {
  const scheduler = new DDIMScheduler();
  scheduler.setTimesteps(steps);
  return scheduler;
}

/** A toy conditional denoiser: eps = x * cond * t / 1000. */
const model = (x: tf.Tensor, t: number, cond: number) => tf.tidy(() => tf.mul(x, (cond * t) / 1000));

async function values(x: tf.Tensor): Promise<number[]> {
  return Array.from(await x.data());
}

describe('sample', () => {
  it('visits every timestep in order, reports progress and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const progress: SampleProgress[] = [];
    const seen: number[] = [];
    const result = await sample({
      scheduler: ddim(),
      model: (x, t, cond: number) => {
        seen.push(t);
        return model(x, t, cond);
      },
      shape: SHAPE,
      generator: new TorchGenerator(0),
      cond: 0.5,
      onProgress: (p) => progress.push(p),
    });
    expect(seen).toEqual([800, 600, 400, 200, 0]);
    expect(progress).toEqual(seen.map((timestep, i) => ({ step: i + 1, totalSteps: 5, timestep })));
    expect(result.shape).toEqual(SHAPE);
    expect(tf.memory().numTensors).toBe(before + 1);
    result.dispose();
  });

  it('draws x_T, then every step noise, from the generator', async () => {
    const scheduler = new DDPMScheduler();
    scheduler.setTimesteps(4);
    const run = () => sample({ scheduler, model, shape: SHAPE, generator: new TorchGenerator(3), cond: 1 });
    const [a, b] = [await run(), await run()];
    expect(await values(a)).toEqual(await values(b));
    // DDIM with eta 0 uses no step noise: starting from the generator's first randn is the same run.
    const fromGenerator = await sample({
      scheduler: ddim(),
      model,
      shape: SHAPE,
      generator: new TorchGenerator(3),
      cond: 1,
    });
    const initialNoise = new TorchGenerator(3).randnTensor(SHAPE);
    const fromNoise = await sample({ scheduler: ddim(), model, shape: SHAPE, initialNoise, cond: 1 });
    expect(await values(fromGenerator)).toEqual(await values(fromNoise));
    expect(initialNoise.isDisposed).toBe(false);
    tf.dispose([a, b, fromGenerator, initialNoise, fromNoise]);
  });

  it('applies classifier-free guidance with the unconditional input', async () => {
    const calls: number[] = [];
    const counting = (x: tf.Tensor, t: number, cond: number) => {
      calls.push(cond);
      return model(x, t, cond);
    };
    const guided = await sample({
      scheduler: ddim(3),
      model: counting,
      shape: SHAPE,
      generator: new TorchGenerator(1),
      cond: 2,
      uncond: 0.5,
      guidanceScale: 3,
    });
    expect(calls).toEqual([2, 0.5, 2, 0.5, 2, 0.5]);
    // The same loop by hand.
    const scheduler = ddim(3);
    let x = new TorchGenerator(1).randnTensor(SHAPE);
    for (const t of scheduler.timesteps) {
      const [c, u] = [model(x, t, 2), model(x, t, 0.5)];
      const eps = applyGuidance(c, u, 3);
      const { prevSample, predOriginalSample } = scheduler.step(eps, t, x);
      tf.dispose([c, u, eps, predOriginalSample, x]);
      x = prevSample;
    }
    expect(await values(guided)).toEqual(await values(x));
    calls.length = 0;
    const unguided = await sample({
      scheduler: ddim(3),
      model: counting,
      shape: SHAPE,
      cond: 2,
      uncond: 0.5,
    });
    expect(calls).toEqual([2, 2, 2]);
    tf.dispose([guided, x, unguided]);
    await expect(
      sample({ scheduler: ddim(), model, shape: SHAPE, cond: 1, guidanceScale: 2 }),
    ).rejects.toThrow(/needs `uncond`/);
  });

  it('awaits asynchronous models', async () => {
    const result = await sample({
      scheduler: ddim(2),
      model: async (x, t, cond: number) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return model(x, t, cond);
      },
      shape: SHAPE,
      generator: new TorchGenerator(0),
      cond: 1,
    });
    expect(result.shape).toEqual(SHAPE);
    result.dispose();
  });

  it('rejects with the abort reason between steps and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const reason = new Error('stop here');
    const steps: number[] = [];
    const run = sample({
      scheduler: ddim(),
      model,
      shape: SHAPE,
      generator: new TorchGenerator(0),
      cond: 1,
      signal: controller.signal,
      onProgress: ({ step }) => {
        steps.push(step);
        if (step === 2) controller.abort(reason);
      },
    });
    await expect(run).rejects.toBe(reason);
    expect(steps).toEqual([1, 2]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects when aborted while the model runs, or before it starts', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const run = sample({
      scheduler: ddim(),
      model: async (x, t, cond: number) => {
        controller.abort('user cancelled');
        return model(x, t, cond);
      },
      shape: SHAPE,
      cond: 1,
      signal: controller.signal,
    });
    await expect(run).rejects.toBe('user cancelled');
    await expect(
      sample({ scheduler: ddim(), model, shape: SHAPE, cond: 1, signal: AbortSignal.abort('early') }),
    ).rejects.toBe('early');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('disposes its tensors when the model throws', async () => {
    const before = tf.memory().numTensors;
    const run = sample({
      scheduler: ddim(),
      model: (x, t) => {
        if (t === 400) throw new Error('model failed');
        return model(x, t, 1);
      },
      shape: SHAPE,
      cond: 1,
    });
    await expect(run).rejects.toThrow('model failed');
    expect(tf.memory().numTensors).toBe(before);
  });
});
