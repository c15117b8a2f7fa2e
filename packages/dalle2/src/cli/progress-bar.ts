/** Where a progress bar draws: stderr, or any stream with the same surface. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * A progress bar with rate and ETA on stderr. On a terminal it redraws one line; elsewhere (a
 * pipe, a log file, CI) it prints one line when the task ends, so logs stay readable.
 */
export class ProgressBar {
  private readonly started = performance.now();
  private current = 0;
  private lastDraw = 0;
  private finished = false;

  constructor(
    readonly label: string,
    readonly total: number,
    private readonly stream: ProgressStream = process.stderr,
    private readonly unit = 'steps',
  ) {}

  /** Sets the number of steps done (and optional extra text, e.g. the loss). */
  update(done: number, extra = ''): void {
    this.current = done;
    if (!this.stream.isTTY) return;
    const now = performance.now();
    // At most ~10 redraws a second, and always the last one.
    if (done < this.total && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.stream.write(`\r\x1b[2K${this.line(extra)}`);
  }

  /** Ends the bar: a final line, whether or not every step ran. */
  done(extra = ''): void {
    if (this.finished) return;
    this.finished = true;
    const seconds = (performance.now() - this.started) / 1000;
    const summary = `${this.label}: ${this.current}/${this.total} ${this.unit} in ${formatDuration(seconds)}${extra ? ` ${extra}` : ''}`;
    this.stream.write(this.stream.isTTY ? `\r\x1b[2K${summary}\n` : `${summary}\n`);
  }

  private line(extra: string): string {
    const elapsed = (performance.now() - this.started) / 1000;
    const fraction = this.total > 0 ? Math.min(1, this.current / this.total) : 1;
    const rate = this.current > 0 ? this.current / elapsed : 0;
    const eta = rate > 0 ? (this.total - this.current) / rate : Number.NaN;
    const text = `${this.current}/${this.total} ${formatRate(rate, this.unit)} ETA ${formatDuration(eta)}${extra ? ` ${extra}` : ''}`;
    const width = Math.max(
      10,
      Math.min(30, (this.stream.columns ?? 80) - this.label.length - text.length - 6),
    );
    const filled = Math.round(fraction * width);
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`;
  }
}

/** 75 -> '1m15s'; NaN -> '?'. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatRate(rate: number, unit: string): string {
  if (rate === 0) return `-- ${unit}/s`;
  return rate >= 1 ? `${rate.toFixed(1)} ${unit}/s` : `${(1 / rate).toFixed(1)} s/${unit.replace(/s$/, '')}`;
}
