/**
 * `tooltime run`'s progress bar on a terminal: episodes done of the run's, and the time left.
 *
 * The time left comes from the rate over the last WINDOW_MS of wall time, not over the last N
 * updates (cli-progress's own estimate): a pool's batch finishes hundreds of episodes in the same
 * millisecond, and over cli-progress's last 10 updates the rate was infinite, so the bar said
 * "0s left" from start to end; over more updates it still swung between bursts ("1s left" a third
 * of the way). Wall time is right here: this is what a person waits, never part of a result.
 */
import cliProgress from 'cli-progress';

/** The rate is measured over this much of the recent past... */
const WINDOW_MS = 10_000;
/** ...and only once it spans this much (before, the bar shows no estimate). */
const MIN_SPAN_MS = 1_000;
/** One sample kept per this long: at most WINDOW_MS / SAMPLE_MS + 2 samples are kept. */
const SAMPLE_MS = 250;

/** What is left of `total` episodes, from the times episodes finished (see the module's note). */
export class TimeLeft {
  private readonly samples: Array<{ readonly atMs: number; readonly done: number }> = [];

  constructor(
    private readonly total: number,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.samples.push({ atMs: nowMs(), done: 0 });
  }

  /** `done` episodes have finished: the time left as the bar shows it, or '' without a rate yet. */
  update(done: number): string {
    const atMs = this.nowMs();
    const last = this.samples[this.samples.length - 1]!;
    if (atMs - last.atMs >= SAMPLE_MS) this.samples.push({ atMs, done });
    // Keep one sample at or before the window's start, so the window is spanned whole.
    while (this.samples.length > 2 && atMs - this.samples[1]!.atMs >= WINDOW_MS)
      this.samples.shift();
    const first = this.samples[0]!;
    const spanMs = atMs - first.atMs;
    if (spanMs < MIN_SPAN_MS || done <= first.done) return '';
    const leftS = Math.ceil(((this.total - done) * spanMs) / (done - first.done) / 1000);
    // As cli-progress shows its own estimate: seconds past 10 rounded to 5, no padding.
    return `${cliProgress.Format.TimeFormat(leftS, { autopaddingChar: '' }, 5)} left`;
  }
}

/** The bar: `start()`, `done()` at each finished episode, `stop()`. */
export class ProgressBar {
  private readonly bar: cliProgress.SingleBar;
  private readonly left: TimeLeft;
  private count = 0;

  constructor(
    private readonly total: number,
    stream: NodeJS.WriteStream,
  ) {
    this.bar = new cliProgress.SingleBar(
      { stream, format: 'episodes [{bar}] {value}/{total} {left}', hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    this.left = new TimeLeft(total);
  }

  start(): void {
    this.bar.start(this.total, 0, { left: '' });
  }

  done(): void {
    this.count++;
    this.bar.increment(1, { left: this.left.update(this.count) });
  }

  stop(): void {
    this.bar.stop();
  }
}
