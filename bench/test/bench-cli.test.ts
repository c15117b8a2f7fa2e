import { describe, expect, test } from 'vitest';
import type { BenchReport, Measurement } from '../src/bench-result.js';
import { compareReports } from '../src/compare-reports.js';
import { reportToMarkdown } from '../src/report-markdown.js';
import { SUITE_NAMES, selectSuites } from '../src/suites.js';

describe('selectSuites', () => {
  test('no names is every suite, matmul first', () => {
    expect(selectSuites([]).map((suite) => suite.name)).toEqual(SUITE_NAMES);
    expect(SUITE_NAMES[0]).toBe('matmul');
  });

  test('named suites keep the run order, always with matmul; unet is both U-Net suites', () => {
    expect(selectSuites(['generate', 'clip']).map((suite) => suite.name)).toEqual([
      'matmul',
      'clip',
      'generate',
    ]);
    expect(selectSuites(['unet']).map((suite) => suite.name)).toEqual(['matmul', 'unet-small', 'unet-seed']);
  });

  test('an unknown name throws with the valid ones', () => {
    expect(() => selectSuites(['unets'])).toThrow(
      /Unknown suite "unets"; valid: matmul, unet-small, unet-seed, clip, prior, generate, kernels, unet/,
    );
  });

  test('every measurement has a unique name and runs on wasm, the baseline of the ratios, but for the kernels suite', () => {
    const names = selectSuites([]).flatMap((suite) => suite.measurements.map((m) => m.name));
    expect(new Set(names).size).toBe(names.length);
    for (const suite of selectSuites([]).filter((s) => s.name !== 'kernels'))
      for (const m of suite.measurements) expect(m.backends).toContain('wasm');
  });

  test("the kernels suite pairs each of the backend's own kernels with ours, on the same backend", () => {
    const [kernels] = selectSuites(['kernels']).filter((suite) => suite.name === 'kernels');
    // Conv forward, conv forward+backward, GroupNorm, attention; on webgpu also the matMul.
    const pairs: [string, string, number][] = [
      ['wasm, JavaScript loops', 'wasm, SIMD kernels', 4],
      ['tfjs-backend-webgpu kernels', 'our webgpu kernels', 5],
    ];
    for (const [theirs, ours, count] of pairs) {
      const baselines = kernels!.measurements.filter((m) => m.name.endsWith(theirs));
      expect(baselines.length).toBe(count);
      for (const baseline of baselines) {
        const counterpart = kernels!.measurements.find((m) => m.name === baseline.name.replace(theirs, ours));
        expect(counterpart?.backends).toEqual(baseline.backends);
      }
    }
  });
});

function measurement(name: string, backend: string, minMs: number, gflops: number | null): Measurement {
  return {
    suite: 's',
    name,
    backend,
    batch: 1,
    reps: 1,
    timesMs: [minMs],
    minMs,
    medianMs: minMs,
    cpuMs: minMs,
    perImageMs: minMs,
    ratioToWasm: 1,
    flops: null,
    gflops,
    percentOfPeak: null,
    percentOfMatMul: null,
    gflopsPerCpuSecond: null,
    percentOfCorePeakByCpuTime: null,
    tfPeakBytes: 0,
    rssBytes: 0,
    topKernels: [],
  };
}

function report(measurements: Measurement[]): BenchReport {
  return {
    schema: 1,
    date: '2026-01-01T00:00:00.000Z',
    machine: { cpu: 'x', cores: 2, memoryGiB: 1, platform: 'linux', node: '20', loadAverage: 1 },
    versions: {},
    peakGflops: 166,
    backends: {},
    suites: ['s'],
    measurements,
    notRun: [],
    failed: [],
    wallSeconds: 1,
  };
}

describe('compareReports', () => {
  test('speed-ups by name and backend, GFLOP/s where counted, and what only one run has', () => {
    const before = report([
      measurement('a', 'wasm', 300, 10),
      measurement('a', 'cpu', 900, null),
      measurement('gone', 'wasm', 5, null),
    ]);
    const after = report([
      measurement('a', 'wasm', 100, 30),
      measurement('a', 'cpu', 1800, null),
      measurement('new', 'wasm', 5, null),
    ]);
    const table = compareReports(before, after);
    expect(table).toMatch(/wasm\s+a\s+300\s+100\s+3\.00x\s+10\.0 -> 30\.0/);
    expect(table).toMatch(/cpu\s+a\s+900\s+1800\s+0\.50x/);
    expect(table).toContain('wasm: new (only after)');
    expect(table).toContain('wasm: gone (only before)');
  });
});

describe('reportToMarkdown', () => {
  test('one row per measurement with the ratio to wasm, and what did not run', () => {
    const wasm = {
      ...measurement('U-Net', 'wasm', 200, 40),
      percentOfPeak: 24.1,
      tfPeakBytes: 3 * 1024 * 1024,
    };
    const cpu = { ...measurement('U-Net', 'cpu', 8000, 1), batch: 4, perImageMs: 2000, ratioToWasm: 40 };
    const full = {
      ...report([wasm, cpu]),
      backends: {
        wasm: { available: true, description: 'wasm, SIMD, 2 threads' },
        webgpu: { available: false },
      },
      notRun: [{ suite: 's', name: 'seed step', reason: 'does not fit' }],
    };
    const table = reportToMarkdown(full);
    expect(table).toContain('backends: wasm (wasm, SIMD, 2 threads); peak 166 GFLOP/s');
    expect(table).toContain('| U-Net | wasm | 200 | 200 | 1.00x | 40.0 | 24.1 | 3 |');
    expect(table).toContain('| U-Net | cpu | 8000 | 2000 | 40.00x | 1.0 |  | 0 |');
    expect(table).toContain('- seed step: does not fit');
    expect(table).not.toContain('Failed:');
  });
});
