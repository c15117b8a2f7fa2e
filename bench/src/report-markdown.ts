import type { BenchReport, Measurement } from './bench-result.js';

const MIB = 1024 * 1024;

/**
 * A report as the README's performance section shows it: the machine, versions and load in one
 * line, then one Markdown row per measurement with its time per call and per image, the ratio to
 * wasm from the same run, GFLOP/s and share of the fp32 peak where FLOPs are counted, and tfjs'
 * peak memory; measurements no backend ran follow with the reason.
 */
export function reportToMarkdown(report: BenchReport): string {
  const { machine } = report;
  const tfjs = report.versions['@tensorflow/tfjs-core'] ?? '?';
  const ran = Object.entries(report.backends)
    .filter(([, status]) => status.available)
    .map(([name, status]) => `${name} (${status.description ?? name})`);
  const lines = [
    `${report.date.slice(0, 10)}, ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, tfjs-core ${tfjs}, load average ${machine.loadAverage}${machine.commit ? `, commit ${machine.commit.slice(0, 7)}` : ''}; backends: ${ran.join(', ')}; peak ${report.peakGflops} GFLOP/s fp32.`,
    '',
    '| measurement | backend | ms per call | ms per image | vs wasm | GFLOP/s | % of peak | tfjs peak MiB |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...report.measurements.map(row),
  ];
  if (report.notRun.length > 0) {
    lines.push('', 'Not run:', '', ...report.notRun.map((entry) => `- ${entry.name}: ${entry.reason}`));
  }
  if (report.failed.length > 0) {
    lines.push(
      '',
      'Failed:',
      '',
      ...report.failed.map((entry) => `- ${entry.suite} on ${entry.backend}: ${entry.error}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

function row(m: Measurement): string {
  const fixed = (value: number | null, digits: number) => (value === null ? '' : value.toFixed(digits));
  const ratio = m.ratioToWasm === null ? '' : `${m.ratioToWasm.toFixed(2)}x`;
  const cells = [
    m.name,
    m.backend,
    m.minMs.toFixed(m.minMs < 10 ? 1 : 0),
    m.perImageMs.toFixed(m.perImageMs < 10 ? 1 : 0),
    ratio,
    fixed(m.gflops, 1),
    fixed(m.percentOfPeak, 1),
    (m.tfPeakBytes / MIB).toFixed(0),
  ];
  return `| ${cells.join(' | ')} |`;
}
