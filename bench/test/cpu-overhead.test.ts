import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../dist/cpu-overhead.js', import.meta.url));

interface StepResult {
  enqueueMs: number;
  totalMs: number;
  kernels: number;
  dispatches: number;
}

// Dawn's null device needs no GPU, so this runs everywhere (a few seconds on 2 cores).
test('bench:overhead times both sets of kernels on the null device; ours dispatch fewer programs at every step', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-overhead-'));
  try {
    const out = join(dir, 'overhead.json');
    execFileSync(process.execPath, [SCRIPT, '--dim', '8', '--size', '8', '--reps', '1', '--out', out], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const report = JSON.parse(readFileSync(out, 'utf8')) as {
      model: { dim: number };
      results: Record<'ours' | 'tfjs', Record<string, StepResult>>;
      ratios: Record<string, { dispatchesTfjsOverOurs: number }>;
    };
    expect(report.model.dim).toBe(8);
    for (const step of ['forwardBackward', 'trainerStep', 'guidedStep']) {
      const [ours, tfjs] = [report.results.ours[step]!, report.results.tfjs[step]!];
      expect(ours.enqueueMs).toBeGreaterThan(0);
      expect(ours.totalMs).toBeGreaterThanOrEqual(ours.enqueueMs);
      expect(ours.kernels).toBeGreaterThan(ours.dispatches);
      expect(ours.dispatches).toBeLessThan(tfjs.dispatches);
      expect(report.ratios[step]!.dispatchesTfjsOverOurs).toBeCloseTo(tfjs.dispatches / ours.dispatches, 1);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

test('bench:overhead names a bad option', () => {
  expect(() =>
    execFileSync(process.execPath, [SCRIPT, '--kernels', 'mine'], { stdio: ['ignore', 'ignore', 'pipe'] }),
  ).toThrow(/--kernels must be ours or tfjs, got "mine"/);
});
