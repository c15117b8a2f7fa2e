import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BackendStatus, BenchReport, Measurement, SuiteRun } from './bench-result.js';
import { compareReports } from './compare-reports.js';
import { machineInfo, packageVersions } from './machine-info.js';
import { reportToMarkdown } from './report-markdown.js';
import { runSuite } from './run-suite.js';
import { BENCH_BACKENDS, type BenchBackend } from './suite.js';
import { SUITE_NAMES, SUITES, selectSuites } from './suites.js';

/** fp32 peak of the reference machine: 2 cores x 2.6 GHz x 2 FMA units x 16 lanes x 2 FLOPs. */
const PEAK_GFLOPS = 166;
const RESULT_PREFIX = '@@bench-result ';

const USAGE = `Usage:
  pnpm bench [suite...] [--backends wasm,cpu,webgpu] [--reps N] [--out FILE]
  pnpm bench --compare BEFORE.json AFTER.json
  pnpm bench --markdown REPORT.json     (the README's performance table)

Suites (default: all): ${SUITE_NAMES.join(', ')}, or unet for both U-Net suites; matmul always runs.
Backends (default: all): ${BENCH_BACKENDS.join(', ')}; one that cannot start (no WebGPU adapter) is reported and skipped.
The JSON goes to FILE, or to stdout; progress and a summary go to stderr.`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      backends: { type: 'string' },
      reps: { type: 'string' },
      out: { type: 'string' },
      compare: { type: 'boolean' },
      markdown: { type: 'string' },
      child: { type: 'boolean' },
      backend: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.compare) {
    if (positionals.length !== 2)
      throw new Error(`--compare needs two files, got ${positionals.length}\n\n${USAGE}`);
    const [before, after] = positionals.map((file) => JSON.parse(readFileSync(file!, 'utf8')) as BenchReport);
    console.log(compareReports(before!, after!));
    return;
  }
  if (values.markdown !== undefined) {
    console.log(reportToMarkdown(JSON.parse(readFileSync(values.markdown, 'utf8')) as BenchReport));
    return;
  }
  const reps = values.reps === undefined ? undefined : parsePositiveInteger('--reps', values.reps);
  if (values.child) {
    await runChild(positionals, values.backend, reps);
    return;
  }
  const suites = selectSuites(positionals);
  const backends = parseBackends(values.backends);
  const report = await runAll(
    suites.map((suite) => suite.name),
    backends,
    reps,
  );
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (values.out) writeFileSync(values.out, json);
  else process.stdout.write(json);
  printSummary(report);
  if (report.failed.length > 0) process.exitCode = 1;
}

function parseBackends(list: string | undefined): BenchBackend[] {
  if (list === undefined) return [...BENCH_BACKENDS];
  const names = list.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!(BENCH_BACKENDS as readonly string[]).includes(name)) {
      throw new Error(`Unknown backend "${name}"; valid: ${BENCH_BACKENDS.join(', ')}`);
    }
  }
  // wasm is the baseline of every ratio, so it always runs, first.
  return ['wasm', ...BENCH_BACKENDS.filter((b) => b !== 'wasm' && names.includes(b))];
}

function parsePositiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${flag} must be a positive integer, got "${text}"`);
  return value;
}

/** One suite on one backend, in this process; the result goes to stdout as one line. */
async function runChild(
  suiteNames: string[],
  backend: string | undefined,
  reps: number | undefined,
): Promise<void> {
  const suite = SUITES.find((s) => s.name === suiteNames[0]);
  if (!suite || !backend) throw new Error('--child needs a suite and --backend');
  if (reps !== undefined) {
    for (const spec of suite.measurements) spec.reps = { wasm: reps, cpu: reps, webgpu: reps };
  }
  const run = await runSuite(suite, backend as BenchBackend, (line) => console.error(line));
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(run)}\n`);
  // Dawn and wasm's worker threads can keep the process alive.
  process.exit(0);
}

/**
 * Runs each suite on each backend in a fresh process (so that each has its own memory high-water
 * mark and no backend's state slows another), suite by suite so that the backends of one
 * measurement run close together in time.
 */
async function runAll(
  suites: string[],
  backends: BenchBackend[],
  reps: number | undefined,
): Promise<BenchReport> {
  const started = new Date();
  const report: BenchReport = {
    schema: 1,
    date: started.toISOString(),
    machine: machineInfo(),
    versions: packageVersions(),
    peakGflops: PEAK_GFLOPS,
    backends: {},
    suites,
    measurements: [],
    notRun: SUITES.filter((suite) => suites.includes(suite.name)).flatMap((suite) =>
      suite.measurements.flatMap((m) =>
        m.notRun === undefined ? [] : [{ suite: suite.name, name: m.name, reason: m.notRun }],
      ),
    ),
    failed: [],
    wallSeconds: 0,
  };
  const rest: Measurement[] = [];
  for (const suite of suites) {
    for (const backend of backends) {
      const known = report.backends[backend];
      if (known && !known.available) continue;
      let run: SuiteRun;
      try {
        run = await runChildProcess(suite, backend, reps);
      } catch (error) {
        // One suite failing (a backend out of memory, say) should not cost the others' numbers.
        report.failed.push({ suite, backend, error: error instanceof Error ? error.message : String(error) });
        continue;
      }
      report.backends[backend] = mergeStatus(known, run.status);
      for (const m of run.measurements) {
        rest.push({
          ...m,
          ratioToWasm: null,
          percentOfPeak: null,
          percentOfMatMul: null,
          gflopsPerCpuSecond: null,
          percentOfCorePeakByCpuTime: null,
        });
      }
    }
  }
  const wasmMs = new Map(rest.filter((m) => m.backend === 'wasm').map((m) => [m.name, m.minMs]));
  const matMul = new Map(rest.filter((m) => m.suite === 'matmul').map((m) => [m.backend, m.gflops]));
  const corePeak = PEAK_GFLOPS / report.machine.cores;
  report.measurements = rest.map((m) => {
    const base = wasmMs.get(m.name);
    const yardstick = matMul.get(m.backend);
    const perCpuSecond = m.flops === null ? null : m.flops / m.cpuMs / 1e6;
    return {
      ...m,
      gflopsPerCpuSecond: perCpuSecond === null ? null : round(perCpuSecond, 2),
      percentOfCorePeakByCpuTime: perCpuSecond === null ? null : round((100 * perCpuSecond) / corePeak, 1),
      ratioToWasm: base === undefined ? null : round(m.minMs / base, 3),
      percentOfPeak: m.gflops === null ? null : round((100 * m.gflops) / PEAK_GFLOPS, 1),
      percentOfMatMul: m.gflops === null || !yardstick ? null : round((100 * m.gflops) / yardstick, 1),
    };
  });
  report.wallSeconds = Math.round((Date.now() - started.getTime()) / 1000);
  return report;
}

function mergeStatus(known: BackendStatus | undefined, next: BackendStatus): BackendStatus {
  if (!known) return next;
  return { ...known, maxRssBytes: Math.max(known.maxRssBytes ?? 0, next.maxRssBytes ?? 0) };
}

function runChildProcess(suite: string, backend: BenchBackend, reps: number | undefined): Promise<SuiteRun> {
  const args = [fileURLToPath(import.meta.url), '--child', suite, '--backend', backend];
  if (reps !== undefined) args.push('--reps', String(reps));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code === 0 && line) resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as SuiteRun);
      else reject(new Error(`${suite} on ${backend} failed (exit ${code ?? signal}); its output is above`));
    });
  });
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function printSummary(report: BenchReport): void {
  const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;
  const lines = [
    `\n${report.date}, ${report.machine.cpu}, load ${report.machine.loadAverage}, ${report.wallSeconds} s`,
  ];
  for (const [name, status] of Object.entries(report.backends)) {
    lines.push(`  ${name}: ${status.available ? status.description : `not run: ${status.reason}`}`);
  }
  for (const m of report.notRun) lines.push(`not run: ${m.name}: ${m.reason}`);
  for (const f of report.failed) lines.push(`FAILED: ${f.suite} on ${f.backend}: ${f.error}`);
  for (const m of report.measurements) {
    const parts = [
      `${m.minMs.toFixed(0)} ms`,
      m.ratioToWasm === null ? '' : `${m.ratioToWasm}x wasm`,
      m.gflops === null ? '' : `${m.gflops.toFixed(1)} GFLOP/s (${m.percentOfPeak}% of peak)`,
      m.gflopsPerCpuSecond === null
        ? ''
        : `${m.gflopsPerCpuSecond} GFLOP/cpu-s (${m.percentOfCorePeakByCpuTime}% of a core)`,
      `tf peak ${mb(m.tfPeakBytes)}`,
      `rss ${mb(m.rssBytes)}`,
    ];
    lines.push(`${m.backend.padEnd(7)} ${m.name.padEnd(48)} ${parts.filter(Boolean).join(', ')}`);
  }
  console.error(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
