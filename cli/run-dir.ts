/**
 * A run's output directory (`tooltime run --out DIR`): which files are tooltime's, the marker
 * `run.json` that says what the run was asked to do, and preparing the directory so that two runs
 * never mix (a non-empty directory is refused; `--force` removes tooltime's own files, nothing
 * else).
 *
 *   DIR/run.json        what was asked (RunManifest), written before the first episode
 *   DIR/episodes.jsonl  one line per finished episode (see run-output.ts)
 *   DIR/summary.json    per-agent summaries, written when the run ends
 *   DIR/replays/*.ttr   one replay per episode
 *
 * Everything about run.json lives here: a later `--resume` reads it back with `readRunManifest`.
 */
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writevSync,
} from 'node:fs';
import { join } from 'node:path';
import { assertInvariant } from '../engine/assert.js';
import { tooltimeVersion } from '../replays/index.js';
import { SCORING_VERSION } from '../scenarios/scoring/version.js';
import { fsReason, fsWords } from '../scenarios/spec/input-file.js';
import type { Delivery, Mode } from '../scenarios/protocol.js';
import type { EpisodeKey, EpisodeRecord } from '../scenarios/experiment.js';
import type { AblationSpec } from './ablation.js';
import { prepareOutDir } from './output-paths.js';
import { UsageError } from './errors.js';

export const RUN_FILE = 'run.json';
export const EPISODES_FILE = 'episodes.jsonl';
export const SUMMARY_FILE = 'summary.json';
export const REPLAYS_DIR = 'replays';
/** What `writeAtomically` writes before its rename; left behind only by a kill in between. */
export const TEMP_SUFFIX = '.tmp';

/** Names of tooltime's files at the top of a run directory (`--force` removes these, and replays/*.ttr). */
export const OWN_FILES: readonly string[] = [RUN_FILE, EPISODES_FILE, SUMMARY_FILE].flatMap((f) => [
  f,
  f + TEMP_SUFFIX,
]);

/** The `format` of run.json, and its version: a reader refuses any other. */
export const RUN_FORMAT = 'tooltime-run';
export const RUN_FORMAT_VERSION = 1;

/** What a run was asked to do: enough to tell what the directory holds and, later, to resume it. */
export interface RunManifest {
  readonly format: typeof RUN_FORMAT;
  readonly version: typeof RUN_FORMAT_VERSION;
  /** The tooltime version that ran it. */
  readonly tooltime: string;
  /** Scenario files and suite folders as given; empty: the shipped default suite. */
  readonly scenarios: readonly string[];
  /** The working directory the paths are relative to. */
  readonly cwd: string;
  readonly sample: number | null;
  /** Instances those paths gave (after `sample`). */
  readonly instances: number;
  /** Agent specs, in the order given (canonical, as episodes.jsonl names them). */
  readonly agents: readonly string[];
  /** Seeds, inclusive. */
  readonly seeds: { readonly from: number; readonly to: number };
  readonly mode: Mode;
  readonly delivery: Delivery;
  readonly concurrency: number;
  /** Model agents' flags as given (`--base-url` without credentials); empty when none was. */
  readonly model: Readonly<Record<string, string>>;
  /** The scoring version episodes are scored by. */
  readonly scoringVersion: number;
  /** `--instances`, `--tag`, `--limit` as given (null, [], null: none). */
  readonly selection: RunSelection;
  /** `--by` keys: summary.json holds their breakdowns. */
  readonly by: readonly string[];
  /** The instances run, in order, and a digest of their canonical content. */
  readonly instanceIds: readonly string[];
  readonly suiteDigest: string;
  /** Each instance's tags (with `tasks`), for breakdowns rebuilt from the directory. */
  readonly instanceTags: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The command line (arguments after `tooltime`) and the circumstances; not compared on resume. */
  readonly command: readonly string[];
  readonly node: string;
  readonly startedAt: string;
  /** When each `--resume` started. */
  readonly resumedAt: readonly string[];
  /** When the run last finished; null while it has not. */
  readonly endedAt: string | null;
  /**
   * Wall time of the model requests sent when the run last finished (cache hits aside; absent
   * without a model agent). Measured, so never the same twice: kept here rather than in the notes
   * (unless think time is `wall`), so the replays, episodes.jsonl and summary.json reproduce.
   */
  readonly modelLatency?: { readonly requests: number; readonly totalMs: number };
  /** `tooltime ablate`: the kind, levels and each instance's level; absent in other runs. */
  readonly ablation?: AblationSpec;
}

export interface RunSelection {
  readonly instances: readonly string[] | null;
  readonly tags: ReadonlyArray<{ readonly key: string; readonly value: string }>;
  readonly limit: number | null;
}

/** The fields of run.json that determine a run's results: `--resume` refuses when any differs. */
export const DETERMINING: ReadonlyArray<keyof RunManifest> = [
  'tooltime',
  'ablation',
  'scenarios',
  'cwd',
  'sample',
  'selection',
  'by',
  'instanceIds',
  'suiteDigest',
  'agents',
  'seeds',
  'mode',
  'delivery',
  'model',
  'scoringVersion',
];

/**
 * Writes `path` whole or not at all, the one way every command does: `text` (or what `fill` writes
 * piece by piece) goes to a temporary file, which is synced and renamed over `path`. On any
 * failure the temporary file is removed; a file-system failure is a UsageError naming `path`,
 * anything else (say, a corrupt replay found while writing) is thrown as it is.
 */
export function writeAtomically(
  path: string,
  text: string | readonly Uint8Array[] | ((write: (text: string) => void) => void),
): void {
  const temp = path + TEMP_SUFFIX;
  let fd: number | null;
  try {
    fd = openSync(temp, 'w');
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${fsReason(error)}`);
  }
  try {
    const write = (piece: string) => writeChunksSync(fd!, [Buffer.from(piece, 'utf8')]);
    if (typeof text === 'string') write(text);
    else if (typeof text === 'function') text(write);
    else writeChunksSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(temp, path);
  } catch (error) {
    if (fd !== null) closeSync(fd);
    rmSync(temp, { force: true });
    throw fsWords(error) === null
      ? error
      : new UsageError(`cannot write ${path}: ${fsReason(error)}`);
  }
}

/** Buffers one vectored write takes at most (IOV_MAX on Linux). */
const IOV_MAX = 1024;

/**
 * Writes every byte of `chunks`, in order, at `fd`'s position: one vectored write per IOV_MAX
 * chunks (a run's episodes.jsonl is tens of thousands of lines, each its own buffer), going on
 * from where a short write stopped. Throws what the write throws. `writev` is fs.writevSync (a
 * test passes one that writes a few bytes a call).
 */
export function writeChunksSync(
  fd: number,
  chunks: readonly Uint8Array[],
  writev: (fd: number, buffers: readonly Uint8Array[]) => number = writevSync,
): void {
  const rest = chunks.filter((c) => c.length > 0);
  let i = 0;
  // Bytes of rest[i] already written.
  let at = 0;
  while (i < rest.length) {
    const group = rest.slice(i, i + IOV_MAX);
    group[0] = group[0]!.subarray(at);
    let written = writev(fd, group);
    assertInvariant(written > 0, 'run directory', 'a write of bytes writes some');
    while (written > 0) {
      const left = rest[i]!.length - at;
      if (written < left) {
        at += written;
        written = 0;
      } else {
        written -= left;
        i++;
        at = 0;
      }
    }
  }
}

/** What `makeRunManifest` is told: the run as asked, flags parsed. */
export interface RunRequest {
  readonly scenarios: readonly string[];
  readonly sample: number | null;
  readonly instances: number;
  readonly agents: readonly string[];
  /** A range, as --seed and --seeds give. */
  readonly seeds: readonly number[];
  readonly mode: Mode;
  readonly delivery: Delivery;
  readonly concurrency: number;
  /** Model flags as given (keys as RunOptions names them). */
  readonly model: Readonly<Record<string, string>>;
  readonly selection: RunSelection;
  readonly by: readonly string[];
  readonly instanceIds: readonly string[];
  readonly suiteDigest: string;
  readonly instanceTags: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly command: readonly string[];
  readonly ablation?: AblationSpec;
}

export function makeRunManifest(run: RunRequest): RunManifest {
  const first = run.seeds[0];
  const last = run.seeds.at(-1);
  assertInvariant(
    first !== undefined && last !== undefined && last - first === run.seeds.length - 1,
    'run manifest',
    'seeds are a range',
  );
  const model = { ...run.model };
  if (model.baseUrl !== undefined) model.baseUrl = withoutCredentials(model.baseUrl);
  return {
    format: RUN_FORMAT,
    version: RUN_FORMAT_VERSION,
    tooltime: tooltimeVersion(),
    scenarios: [...run.scenarios],
    cwd: process.cwd(),
    sample: run.sample,
    instances: run.instances,
    agents: [...run.agents],
    seeds: { from: first, to: last },
    mode: run.mode,
    delivery: run.delivery,
    concurrency: run.concurrency,
    model,
    scoringVersion: SCORING_VERSION,
    selection: run.selection,
    by: [...run.by],
    instanceIds: [...run.instanceIds],
    suiteDigest: run.suiteDigest,
    instanceTags: run.instanceTags,
    command: [...run.command],
    node: process.version,
    startedAt: new Date().toISOString(),
    resumedAt: [],
    endedAt: null,
    ...(run.ablation === undefined ? {} : { ablation: run.ablation }),
  };
}

export function writeRunManifest(dir: string, manifest: RunManifest): void {
  const path = join(dir, RUN_FILE);
  try {
    writeAtomically(path, `${JSON.stringify(manifest, null, 2)}\n`);
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${fsReason(error)}`);
  }
}

/** Reads run.json back; a missing, unreadable or foreign one is a one-line UsageError. */
export function readRunManifest(dir: string): RunManifest {
  const path = join(dir, RUN_FILE);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(
      `${path}: ${error instanceof SyntaxError ? `not JSON (${error.message})` : `cannot read: ${fsReason(error)}`}`,
    );
  }
  if (!isRunMarker(doc))
    throw new UsageError(`${path}: not a tooltime run marker (no "format": "${RUN_FORMAT}")`);
  const m = doc as Partial<RunManifest>;
  if (m.version !== RUN_FORMAT_VERSION)
    throw new UsageError(
      `${path}: run marker version ${String(m.version)}, this tooltime reads version ${RUN_FORMAT_VERSION}`,
    );
  return m as RunManifest;
}

/** A run.json bigger than this is no run marker (a manifest of 720 instances is ~20 kB). */
const MAX_MARKER_BYTES = 16 * 1024 * 1024;

/**
 * Whether `path` is a run directory: a folder whose run.json is a tooltime run marker (of any
 * version). Never throws: anything unreadable is not one.
 */
export function isRunDir(path: string): boolean {
  const file = join(path, RUN_FILE);
  try {
    // A path that is not a folder has no run.json inside (ENOTDIR: caught).
    const size = statSync(file, { throwIfNoEntry: false })?.size;
    if (size === undefined || size > MAX_MARKER_BYTES) return false;
    return isRunMarker(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return false;
  }
}

/** A parsed run.json is a tooltime run marker: an object whose `format` is RUN_FORMAT. */
function isRunMarker(doc: unknown): boolean {
  return (
    doc !== null && typeof doc === 'object' && (doc as { format?: unknown }).format === RUN_FORMAT
  );
}

/** A line of episodes.jsonl: an episode's record and `replay`, its file relative to the run directory. */
export type EpisodeLine = EpisodeRecord & { readonly replay?: string };

/**
 * The whole lines of DIR/episodes.jsonl in file order, each parsed and as written: the one reader
 * (resume, summarize and compare, report). What follows the last newline is a line a kill cut
 * while it was written (or nothing): it is left out. A whole line that is not JSON is a
 * UsageError naming the file and line; so is a file that cannot be read, except a missing one
 * when `missingIsEmpty`.
 */
export function readEpisodeLines(
  dir: string,
  missingIsEmpty = false,
): Array<{ readonly record: EpisodeLine; readonly text: string }> {
  const path = join(dir, EPISODES_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (missingIsEmpty && fsWords(error)?.code === 'ENOENT') return [];
    throw new UsageError(`${path}: cannot read: ${fsReason(error)}`);
  }
  return text
    .split('\n')
    .slice(0, -1)
    .map((line, i) => {
      try {
        return { record: JSON.parse(line) as EpisodeLine, text: line };
      } catch {
        throw new UsageError(`${path}:${i + 1}: not JSON`);
      }
    });
}

/** A run's `--base-url` as it may be written down: without a user name or password in it. */
function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/** Entries named in a refusal, at most. */
const NAMED = 6;

/** `replays/ (12 .ttr files)`, `notes.txt`... for a message: what a directory holds. */
function describeEntries(dir: string, names: readonly string[]): string {
  const shown = names.slice(0, NAMED).map((name) => {
    const path = join(dir, name);
    if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) return name;
    if (name !== REPLAYS_DIR) return `${name}/`;
    const replays = readdirSync(path).filter((f) => f.endsWith('.ttr')).length;
    return `${name}/ (${replays} .ttr file${replays === 1 ? '' : 's'})`;
  });
  return names.length > NAMED
    ? `${shown.join(', ')} and ${names.length - NAMED} more`
    : shown.join(', ');
}

/** Removes `path` if it is a file (not a folder, not a link: those are never tooltime's); returns whether it did. */
function removeOwnFile(path: string): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined || !st.isFile()) return false;
  unlinkSync(path);
  return true;
}

/**
 * Removes tooltime's files from `dir`: OWN_FILES and the `.ttr` files directly in `replays/`.
 * Nothing else, whatever it is called. Returns how many files went.
 */
export function removeOwnFiles(dir: string): number {
  let removed = 0;
  for (const name of OWN_FILES) if (removeOwnFile(join(dir, name))) removed++;
  const replays = join(dir, REPLAYS_DIR);
  if (lstatSync(replays, { throwIfNoEntry: false })?.isDirectory() === true) {
    for (const name of readdirSync(replays))
      if (name.endsWith('.ttr') && removeOwnFile(join(replays, name))) removed++;
  }
  return removed;
}

/**
 * Makes `dir` ready for a run: created if missing; an existing one must be empty, unless `force`,
 * which first removes tooltime's own files from it (and leaves everything else where it is).
 * Creates `replays/` when `replays` is true. Problems are one-line UsageErrors naming the path.
 */
/** Whether something is at `path` now (a path under a file is nothing: prepareOutDir names it). */
function existsAsIs(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

export function prepareRunDir(
  dir: string,
  options: { readonly force: boolean; readonly replays: boolean },
): void {
  const where = `--out ${dir}`;
  const existed = existsAsIs(dir);
  // Made if missing (one level at a time), and checked to be a directory the run can write in.
  prepareOutDir(dir);
  try {
    if (existed) {
      if (options.force) removeOwnFiles(dir);
      else {
        const names = readdirSync(dir).sort();
        if (names.length > 0) {
          throw new UsageError(
            `${where} is not empty (it holds ${describeEntries(dir, names)}): give a new or empty directory, or add --force to remove tooltime's files from it (${RUN_FILE}, ${EPISODES_FILE}, ${SUMMARY_FILE}, ${REPLAYS_DIR}/*.ttr; nothing else)`,
          );
        }
      }
    }
    mkdirSync(options.replays ? join(dir, REPLAYS_DIR) : dir, { recursive: true });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${where}: ${fsReason(error)}`);
  }
}

/** One episode's key as a single string: (instance, agent, seed), for maps and de-duplication. */
export function episodeKeyId(key: EpisodeKey): string {
  return `${key.instance}\u0000${key.agent}\u0000${key.seed}`;
}
