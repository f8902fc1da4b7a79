/**
 * A run's results written into its directory while it goes (`tooltime run --out DIR`; the layout
 * is in run-dir.ts), so that a run killed at any moment leaves every finished episode readable and
 * a run stopped by an error leaves no replay that was not written whole.
 *
 * - Each episode's replay goes to DIR/replays, written by a FileSink (a model's or a module's
 *   episode at every decision, a built-in policy's, microseconds long, when it ends).
 * - A finished episode's line (its EpisodeRecord, plus `replay`: the file, relative to DIR) is
 *   written once its replay is whole on disk: closed, holding every byte the recorder handed over. Lines are then appended to episodes.jsonl
 *   in the order episodes finished, one write per check (at every episode's end, and every
 *   POLL_MS while the run waits on something, a model). A write is in the system's hands once it
 *   returns: it survives the process being killed (not the machine losing power).
 * - When the run ends, episodes.jsonl is rewritten (atomically) in the run's order: instances as
 *   listed, then agents as given, then seeds; so the finished file depends neither on timing nor
 *   on `--concurrency`. summary.json is written then (atomically).
 * - When the run stops on an error, finished episodes whose replays are whole are logged, and the
 *   replay files not written whole (a failed write: a full disk) are removed. A replay of an
 *   episode the run stopped in the middle of keeps what it recorded, as a killed run's does: it
 *   reads as truncated.
 */
import { closeSync, openSync, statSync, unlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { assertInvariant } from '../engine/assert.js';
import { isModelSpec, isModuleSpec } from '../agents/index.js';
import { FileSink, ReplayRecorder, type ReplaySink } from '../replays/index.js';
import { canonicalJson } from '../scenarios/spec/canonical.js';
import type {
  AgentSummary,
  EpisodeKey,
  EpisodeRecord,
  EpisodeRecorder,
  ExperimentResult,
} from '../scenarios/experiment.js';
import { SCORING_VERSION } from '../scenarios/scoring/version.js';
import { fsReason } from '../scenarios/spec/load.js';
import type { Delivery, Mode } from '../scenarios/protocol.js';
import type { Scenario } from '../scenarios/spec/schema.js';
import { UsageError } from './errors.js';
import type { Breakdown } from './tables.js';
import type { AblationEffect } from './ablation.js';
import {
  EPISODES_FILE,
  episodeKeyId,
  REPLAYS_DIR,
  SUMMARY_FILE,
  writeAtomically,
  writeChunksSync,
} from './run-dir.js';

/** A file name for an episode's replay: instance, agent spec and seed, with unsafe characters replaced. */
export function replayFileName(key: EpisodeKey): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._=+-]/g, '_');
  return `${safe(key.instance)}--${safe(key.agent)}--seed${key.seed}.ttr`;
}

/** `records` in the run's order: instances, then agents, then seeds, each in the order the run first met it. */
export function runOrder(records: readonly EpisodeRecord[]): EpisodeRecord[] {
  const ranks = <T>(values: readonly T[]): Map<T, number> => {
    const map = new Map<T, number>();
    for (const v of values) if (!map.has(v)) map.set(v, map.size);
    return map;
  };
  const instance = ranks(records.map((r) => r.instance));
  const agent = ranks(records.map((r) => r.agent));
  const seed = ranks(records.map((r) => r.seed));
  return [...records].sort(
    (a, b) =>
      instance.get(a.instance)! - instance.get(b.instance)! ||
      agent.get(a.agent)! - agent.get(b.agent)! ||
      seed.get(a.seed)! - seed.get(b.seed)!,
  );
}

/**
 * summary.json, and `run --json` (which adds model usage): what was run and one summary per agent.
 * Nothing of the circumstances (times, Node, the command line: run.json has those), so two runs
 * of the same command give the same bytes.
 */
export interface SummaryDocument {
  readonly scoringVersion: number;
  readonly instances: number;
  readonly seeds: readonly number[];
  readonly mode: Mode;
  readonly delivery: Delivery;
  readonly agents: readonly AgentSummary[];
  /** `--by KEY`: present only when asked. */
  readonly breakdowns?: readonly Breakdown[];
  /** `tooltime ablate`: the effect of each level (cli/ablation.ts); present only in an ablation. */
  readonly ablation?: AblationEffect;
}

export function summaryDocument(
  result: ExperimentResult,
  world: { readonly seeds?: readonly number[]; readonly mode: Mode; readonly delivery: Delivery },
  by: readonly Breakdown[] = [],
  ablation: AblationEffect | null = null,
): SummaryDocument {
  const instances = new Set(result.episodes.map((e) => e.instance)).size;
  const seeds =
    world.seeds ?? [...new Set(runOrder(result.episodes).map((e) => e.seed))].sort((a, b) => a - b);
  return {
    scoringVersion: SCORING_VERSION,
    instances,
    seeds: [...seeds],
    mode: world.mode,
    delivery: world.delivery,
    agents: result.summaries,
    ...(by.length === 0 ? {} : { breakdowns: by }),
    ...(ablation === null ? {} : { ablation }),
  };
}

/** Writes summary.json whole or not at all. */
export function writeSummary(dir: string, doc: SummaryDocument): void {
  writeAtomically(join(dir, SUMMARY_FILE), `${JSON.stringify(doc, null, 2)}\n`);
}

/** One episode's replay file, as this run handed it over. */
interface ReplayFile {
  readonly path: string;
  /** The path episodes.jsonl gives: relative to the run directory. */
  readonly name: string;
  /** Bytes handed to the sink: a whole file holds exactly these. */
  bytes: number;
  closed: boolean;
  /** Named in episodes.jsonl. */
  logged: boolean;
}

/**
 * Writes a replay file, counting its bytes (see ReplayFile); a file-system failure is a one-line
 * `cannot write replay PATH: ...`. A live sink (a model's or a module's episode, which waits) is
 * written at every decision; another, microseconds long, when it closes.
 */
class CountingSink implements ReplaySink {
  private readonly inner: FileSink;
  readonly checkpoint?: () => void;

  constructor(
    private readonly file: ReplayFile,
    live: boolean,
  ) {
    this.inner = this.guard(() => new FileSink(file.path, { writeAt: 'decision' }));
    // A recorder hands a sink with `checkpoint` its records at every decision.
    if (live) this.checkpoint = () => this.guard(() => this.inner.checkpoint());
  }

  write(chunk: Uint8Array): void {
    this.guard(() => this.inner.write(chunk));
    this.file.bytes += chunk.length;
  }

  close(): void {
    if (this.file.closed) return;
    this.guard(() => this.inner.close());
    this.file.closed = true;
  }

  private guard<T>(write: () => T): T {
    try {
      return write();
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new UsageError(`cannot write replay ${this.file.path}: ${why}`);
    }
  }
}

/** An episode another thread ran (RunOutput.ranElsewhere): its record, line and replay's bytes. */
export interface ElsewhereEpisode {
  readonly record: EpisodeRecord;
  /** Its episodes.jsonl line, newline included. */
  readonly line: string;
  /** The bytes of its replay, written whole. */
  readonly bytes: number;
}

export interface RunOutputOptions {
  /** The run directory, prepared (prepareRunDir). */
  readonly dir: string;
  readonly mode: Mode;
  readonly delivery: Delivery;
  /** The run's seeds (default: those its episodes have). */
  readonly seeds?: readonly number[];
  /** `--record FILE`: the run's one episode is recorded there instead of under DIR/replays. */
  readonly record?: string;
  /** A resumed run: episodes.jsonl holds the kept lines already, and is appended to. */
  readonly append?: boolean;
}

export class RunOutput {
  private readonly dir: string;
  private readonly logPath: string;
  private log: number | null;
  private readonly files = new Map<string, ReplayFile>();
  /** Each episode's line, encoded once: appended, then written again in the run's order. */
  private readonly lines = new Map<EpisodeRecord, Buffer>();
  private stopped = false;

  constructor(private readonly options: RunOutputOptions) {
    this.dir = options.dir;
    this.logPath = join(this.dir, EPISODES_FILE);
    try {
      this.log = openSync(this.logPath, options.append === true ? 'a' : 'w');
    } catch (error) {
      throw new UsageError(`cannot write ${this.logPath}: ${fsReason(error)}`);
    }
  }

  /** Pass as ExperimentOptions.recorder. */
  readonly recorder = (
    key: EpisodeKey,
    scenario: Scenario,
    world: { readonly mode: Mode; readonly delivery: Delivery } = this.options,
  ): EpisodeRecorder => {
    const path = this.options.record ?? join(this.dir, REPLAYS_DIR, replayFileName(key));
    const file = this.track(key, path, 0, false);
    // A built-in policy's episode takes microseconds: its replay is written whole, not decision by decision.
    const live = isModelSpec(key.agent) || isModuleSpec(key.agent);
    const sink = new CountingSink(file, live);
    return ReplayRecorder.open(sink, {
      scenario,
      agent: key.agent,
      seed: key.seed,
      mode: world.mode,
      delivery: world.delivery,
    });
  };

  /**
   * A batch of episodes run elsewhere (a worker thread, or this one as one of a pool's), each
   * replay of `bytes` bytes written whole before the answer: their lines are logged as `complete`
   * would log them (complete then skips them), in one write.
   */
  ranElsewhere(done: ReadonlyArray<ElsewhereEpisode>): void {
    const texts: Buffer[] = [];
    for (const { record, line, bytes } of done) {
      this.track(record, join(this.dir, REPLAYS_DIR, replayFileName(record)), bytes, true);
      const text = Buffer.from(line, 'utf8');
      this.lines.set(record, text);
      texts.push(text);
    }
    this.append(texts);
  }

  /** A kept episode of a resumed run: its line, as episodes.jsonl holds it, goes into the final file. */
  adopt(record: EpisodeRecord, line: string): void {
    this.lines.set(record, Buffer.from(line, 'utf8'));
  }

  /** Pass as ExperimentOptions.onComplete: the episode's line waits for its replay (see above). */
  readonly complete = (record: EpisodeRecord): void => {
    // A kept episode (adopt) is in episodes.jsonl already.
    if (this.lines.has(record)) return;
    const file = this.files.get(episodeKeyId(record));
    assertInvariant(file?.closed === true, 'run output', 'a finished episode has a closed replay');
    const line = Buffer.from(`${canonicalJson({ ...record, replay: file.name })}\n`, 'utf8');
    this.lines.set(record, line);
    // Closed but not whole: its write failed, and the run stops on that failure.
    if (!isWhole(file)) return;
    file.logged = true;
    this.append([line]);
  };

  /**
   * The run went to its end: rewrites episodes.jsonl in the run's order and writes summary.json.
   */
  async finish(
    result: ExperimentResult,
    summary: SummaryDocument = summaryDocument(result, this.options),
  ): Promise<void> {
    this.closeLog();
    assertInvariant(
      result.episodes.every((r) => this.lines.has(r)),
      'run output',
      'every episode of the result has its line',
    );
    writeAtomically(
      this.logPath,
      runOrder(result.episodes).map((r) => this.lines.get(r)!),
    );
    writeSummary(this.dir, summary);
  }

  /**
   * The run stopped on an error: removes replay files not written whole (finished episodes are
   * logged already). Never throws.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const file of this.files.values()) {
      if (file.logged || isWhole(file)) continue;
      try {
        unlinkSync(file.path);
      } catch {
        // Already gone, or never created.
      }
    }
    this.closeLog();
  }

  /**
   * Tracks an episode's replay file at `path`: one being written (0 bytes so far), or one written
   * whole by another thread (`written`: closed, and logged with the line that follows).
   */
  private track(key: EpisodeKey, path: string, bytes: number, written: boolean): ReplayFile {
    const file: ReplayFile = {
      path,
      name: relative(this.dir, path),
      bytes,
      closed: written,
      logged: written,
    };
    this.files.set(episodeKeyId(key), file);
    return file;
  }

  private append(texts: readonly Buffer[]): void {
    assertInvariant(
      this.log !== null,
      'run output',
      'episodes.jsonl is open while lines are appended',
    );
    try {
      writeChunksSync(this.log, texts);
    } catch (error) {
      throw new UsageError(`cannot write ${this.logPath}: ${fsReason(error)}`);
    }
  }

  private closeLog(): void {
    if (this.log === null) return;
    const fd = this.log;
    this.log = null;
    closeSync(fd);
  }
}

/** The file holds every byte handed over for it. */
function isWhole(file: ReplayFile): boolean {
  return statSync(file.path, { throwIfNoEntry: false })?.size === file.bytes;
}
