import type { BenchReport, Measurement } from './bench-result.js';

/**
 * A table of every measurement two runs share (by name and backend): before and after times, the
 * speed-up (before / after: above 1 is faster), and GFLOP/s where counted.
 */
export function compareReports(before: BenchReport, after: BenchReport): string {
  const key = (m: Measurement) => `${m.backend}\u0000${m.name}`;
  const earlier = new Map(before.measurements.map((m) => [key(m), m]));
  const rows: string[][] = [
    ['backend', 'measurement', 'before ms', 'after ms', 'speed-up', 'GFLOP/s before -> after'],
  ];
  const unmatched: string[] = [];
  for (const m of after.measurements) {
    const old = earlier.get(key(m));
    if (!old) {
      unmatched.push(`${m.backend}: ${m.name} (only after)`);
      continue;
    }
    earlier.delete(key(m));
    const gflops =
      old.gflops === null || m.gflops === null ? '' : `${old.gflops.toFixed(1)} -> ${m.gflops.toFixed(1)}`;
    rows.push([
      m.backend,
      m.name,
      old.minMs.toFixed(0),
      m.minMs.toFixed(0),
      `${(old.minMs / m.minMs).toFixed(2)}x`,
      gflops,
    ]);
  }
  for (const m of earlier.values()) unmatched.push(`${m.backend}: ${m.name} (only before)`);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const lines = rows.map((row) =>
    row.map((cell, c) => (c >= 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  '),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const header = [
    `before: ${before.date} ${before.machine.commit ?? ''} (load ${before.machine.loadAverage})`,
    `after:  ${after.date} ${after.machine.commit ?? ''} (load ${after.machine.loadAverage})`,
    '',
  ];
  const footer =
    unmatched.length === 0 ? [] : ['', 'Not in both runs:', ...unmatched.map((line) => `  ${line}`)];
  return [...header, ...lines, ...footer].join('\n');
}
