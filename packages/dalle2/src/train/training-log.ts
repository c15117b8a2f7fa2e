import { writeFileAtomic } from '@dalle2js/core';

/** One line of a run's `log.jsonl`. */
export interface TrainingLogEntry {
  step: number;
  /** Training steps have a loss and a learning rate; sample lines have `event: 'sample'` and metrics instead. */
  loss?: number;
  lr?: number;
  event?: 'sample';
  /** Seconds since the run (or the resumed run) started. */
  seconds: number;
  [extra: string]: unknown;
}

/**
 * A JSON-lines training log. On resume it keeps only the lines up to the checkpoint's step, so the
 * steps that are run again are not logged twice. Node only.
 */
export class TrainingLog {
  private entries: TrainingLogEntry[] = [];

  private constructor(readonly path: string) {}

  /** Opens `path`, keeping the lines with step <= `upToStep` (0 for a fresh run). */
  static async open(path: string, upToStep: number): Promise<TrainingLog> {
    const { readFile } = await import('node:fs/promises');
    const log = new TrainingLog(path);
    const text = upToStep > 0 ? await readFile(path, 'utf8').catch(() => '') : '';
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const entry = JSON.parse(line) as TrainingLogEntry;
        if (typeof entry.step === 'number' && entry.step <= upToStep) log.entries.push(entry);
      } catch {
        // A line cut short by a crash is dropped.
      }
    }
    await log.rewrite();
    return log;
  }

  get all(): readonly TrainingLogEntry[] {
    return this.entries;
  }

  async append(entry: TrainingLogEntry): Promise<void> {
    const { appendFile } = await import('node:fs/promises');
    this.entries.push(entry);
    await appendFile(this.path, `${JSON.stringify(entry)}\n`);
  }

  private async rewrite(): Promise<void> {
    const text = this.entries.map((e) => `${JSON.stringify(e)}\n`).join('');
    await writeFileAtomic(this.path, new TextEncoder().encode(text));
  }
}
