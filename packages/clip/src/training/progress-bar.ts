/** Where progress goes: `process.stderr` or anything with `write` (and `isTTY` for a redrawn bar). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressBarOptions {
  /** The last step of the run. */
  total: number;
  /** Default `process.stderr` where there is one; elsewhere nothing is written. */
  stream?: ProgressStream;
  /** Without a TTY, one plain line every this many steps (and at the last). Default 50. */
  logEvery?: number;
  /** With a TTY, redraw at most this often, in ms. Default 100. */
  redrawMs?: number;
  /** Text before the bar; default 'train'. */
  label?: string;
  /** Clock in ms; default `performance.now`. */
  now?: () => number;
}

const BAR_WIDTH = 24;

/**
 * A progress bar with rate and ETA. On a TTY it redraws one line in place; elsewhere (CI logs, files)
 * it prints a plain line every `logEvery` steps, so logs stay readable.
 */
export class ProgressBar {
  readonly total: number;
  private readonly stream: ProgressStream | undefined;
  private readonly logEvery: number;
  private readonly redrawMs: number;
  private readonly label: string;
  private readonly now: () => number;
  private startStep = 0;
  private startTime: number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(options: ProgressBarOptions) {
    const { total, logEvery = 50, redrawMs = 100 } = options;
    if (!Number.isSafeInteger(total) || total < 1)
      throw new Error(`ProgressBar: total must be a positive integer, got ${total}`);
    if (!Number.isSafeInteger(logEvery) || logEvery < 1) {
      throw new Error(`ProgressBar: logEvery must be a positive integer, got ${logEvery}`);
    }
    this.total = total;
    this.stream = options.stream ?? defaultStream();
    this.logEvery = logEvery;
    this.redrawMs = redrawMs;
    this.label = options.label ?? 'train';
    this.now = options.now ?? (() => performance.now());
    this.startTime = this.now();
  }

  /** Starts timing at `step` (a resumed run starts past 0), so the rate counts only this run's steps. */
  start(step = 0): void {
    this.startStep = step;
    this.startTime = this.now();
    this.lastDraw = Number.NEGATIVE_INFINITY;
  }

  /** Reports that `step` steps are done; `fields` (say loss and lr) are shown after the bar. */
  update(step: number, fields: Readonly<Record<string, number | string>> = {}): void {
    if (this.stream === undefined) return;
    const time = this.now();
    const last = step >= this.total;
    if (this.stream.isTTY === true) {
      if (!last && time - this.lastDraw < this.redrawMs) return;
      this.lastDraw = time;
      this.stream.write(`\r${this.line(step, fields, time, true)}\x1b[K`);
      this.drawn = true;
    } else if (last || step % this.logEvery === 0) {
      this.stream.write(`${this.line(step, fields, time, false)}\n`);
    }
  }

  /** Ends the redrawn line on a TTY. */
  finish(): void {
    if (this.drawn && this.stream?.isTTY === true) this.stream.write('\n');
    this.drawn = false;
  }

  /** One line of progress, as `update` prints it. */
  line(step: number, fields: Readonly<Record<string, number | string>>, time: number, bar: boolean): string {
    const fraction = Math.min(1, Math.max(0, step / this.total));
    const done = step - this.startStep;
    const elapsed = (time - this.startTime) / 1000;
    const rate = done > 0 && elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? (this.total - step) / rate : Number.NaN;
    const parts = [
      this.label,
      ...(bar ? [`[${'#'.repeat(Math.round(fraction * BAR_WIDTH)).padEnd(BAR_WIDTH, '.')}]`] : []),
      `${step}/${this.total}`,
      `${(fraction * 100).toFixed(0).padStart(3)}%`,
      ...Object.entries(fields).map(([key, value]) => `${key} ${formatValue(value)}`),
      rate > 0
        ? `${rate >= 1 ? rate.toFixed(2) : (1 / rate).toFixed(2)} ${rate >= 1 ? 'step/s' : 's/step'}`
        : '',
      `elapsed ${formatDuration(elapsed)}`,
      `ETA ${formatDuration(eta)}`,
    ];
    return parts.filter((part) => part !== '').join(' ');
  }
}

/** 75 -> '1m15s', 3725 -> '1h02m05s'; NaN -> '?'. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${String(s).padStart(2, '0')}s`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

function formatValue(value: number | string): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e5)
    ? value.toExponential(2)
    : value.toFixed(4);
}

function defaultStream(): ProgressStream | undefined {
  const process = (globalThis as { process?: { stderr?: ProgressStream } }).process;
  return process?.stderr;
}
