import { describe, expect, it } from 'vitest';
import {
  BatchOrder,
  DEFAULT_CLIP_TRAINER_CONFIG,
  formatDuration,
  ProgressBar,
  resolveCLIPTrainerConfig,
} from '../src/training/index.js';

function recorder(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (text: string) => writes.push(text) } };
}

describe('ProgressBar', () => {
  it('prints a plain line every logEvery steps and at the last one without a TTY', () => {
    const { writes, stream } = recorder(false);
    let time = 0;
    const bar = new ProgressBar({ total: 10, stream, logEvery: 4, now: () => time });
    bar.start();
    for (let step = 1; step <= 10; step++) {
      time = step * 500;
      bar.update(step, { loss: 1 / step });
    }
    bar.finish();
    expect(writes).toEqual([
      'train 4/10  40% loss 0.2500 2.00 step/s elapsed 2s ETA 3s\n',
      'train 8/10  80% loss 0.1250 2.00 step/s elapsed 4s ETA 1s\n',
      'train 10/10 100% loss 0.1000 2.00 step/s elapsed 5s ETA 0s\n',
    ]);
  });

  it('redraws one line in place on a TTY, at most every redrawMs, and ends it on finish', () => {
    const { writes, stream } = recorder(true);
    let time = 0;
    const bar = new ProgressBar({ total: 4, stream, redrawMs: 1000, label: 'clip', now: () => time });
    bar.start();
    for (const [step, at] of [
      [1, 400],
      [2, 800],
      [3, 1500],
      [4, 1600],
    ] as const) {
      time = at;
      bar.update(step, { lr: 1e-4 });
    }
    bar.finish();
    expect(writes).toEqual([
      '\rclip [######..................] 1/4  25% lr 1.00e-4 2.50 step/s elapsed 0s ETA 1s\x1b[K',
      '\rclip [##################......] 3/4  75% lr 1.00e-4 2.00 step/s elapsed 2s ETA 1s\x1b[K',
      '\rclip [########################] 4/4 100% lr 1.00e-4 2.50 step/s elapsed 2s ETA 0s\x1b[K',
      '\n',
    ]);
  });

  it('times a resumed run from where it started', () => {
    let time = 0;
    const bar = new ProgressBar({ total: 100, stream: recorder(false).stream, now: () => time });
    bar.start(90);
    time = 5000;
    // 5 steps in 5 s: 1 step/s, 5 left.
    expect(bar.line(95, {}, time, false)).toBe('train 95/100  95% 1.00 step/s elapsed 5s ETA 5s');
    time = 20_000;
    expect(bar.line(92, {}, time, false)).toBe('train 92/100  92% 10.00 s/step elapsed 20s ETA 1m20s');
  });

  it('formats durations', () => {
    expect(formatDuration(0.4)).toBe('0s');
    expect(formatDuration(75)).toBe('1m15s');
    expect(formatDuration(3725)).toBe('1h02m05s');
    expect(formatDuration(Number.NaN)).toBe('?');
  });
});

describe('resolveCLIPTrainerConfig', () => {
  it('fills in the defaults', () => {
    expect(resolveCLIPTrainerConfig({ steps: 10, warmupSteps: 2 })).toEqual({
      ...DEFAULT_CLIP_TRAINER_CONFIG,
      steps: 10,
      warmupSteps: 2,
    });
  });

  it('names the field, the value and what is valid', () => {
    expect(() => resolveCLIPTrainerConfig({ batchSize: 1 })).toThrow(
      'batchSize must be an integer >= 2, got 1',
    );
    expect(() => resolveCLIPTrainerConfig({ steps: 10, warmupSteps: 20 })).toThrow(
      'warmupSteps 20 exceeds steps 10',
    );
    expect(() => resolveCLIPTrainerConfig({ learningRate: 1e-4, minLearningRate: 1e-3 })).toThrow(
      'minLearningRate 0.001 must be at most learningRate 0.0001',
    );
    expect(() => resolveCLIPTrainerConfig({ betas: [0.9, 1] })).toThrow(
      'betas must be two numbers in [0, 1), got [0.9,1]',
    );
    expect(() => resolveCLIPTrainerConfig({ lr: 1 } as never)).toThrow(
      'unknown field(s) lr; valid: batchSize, steps, learningRate, minLearningRate, warmupSteps, weightDecay, betas, eps, maxGradNorm, seed',
    );
  });
});

describe('BatchOrder', () => {
  it('draws every example once per epoch, across batch boundaries', () => {
    const order = new BatchOrder(10, 4, 7);
    const drawn = Array.from({ length: 5 }, (_, step) => order.indices(step)).flat(); // 20 = two epochs
    expect([...drawn.slice(0, 10)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...drawn.slice(10)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(drawn.slice(0, 10)).not.toEqual(drawn.slice(10));
  });

  it('depends only on the seed and the step', () => {
    const a = new BatchOrder(50, 8, 3);
    const b = new BatchOrder(50, 8, 3);
    const forward = Array.from({ length: 20 }, (_, step) => a.indices(step));
    const backward = Array.from({ length: 20 }, (_, step) => b.indices(19 - step)).reverse();
    expect(backward).toEqual(forward);
    expect(new BatchOrder(50, 8, 4).indices(0)).not.toEqual(forward[0]);
  });
});
