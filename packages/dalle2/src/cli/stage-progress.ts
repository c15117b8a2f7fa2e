import type { Dalle2Stage } from '../pipeline/generate-options.js';
import { ProgressBar, type ProgressStream } from './progress-bar.js';

/** One progress bar per generation stage, each closed when the next one starts. */
export class StageProgress {
  private bar: ProgressBar | undefined;
  private stage: string | undefined;

  constructor(
    private readonly stream: ProgressStream | undefined,
    private readonly prefix = '',
  ) {}

  readonly onProgress = (stage: Dalle2Stage, step: number, total: number): void => {
    if (this.stream === undefined) return;
    if (stage !== this.stage) {
      this.bar?.done();
      this.stage = stage;
      this.bar = new ProgressBar(`${this.prefix}${stage}`, total, this.stream);
    }
    this.bar?.update(step);
  };

  done(): void {
    this.bar?.done();
    this.bar = undefined;
    this.stage = undefined;
  }
}
