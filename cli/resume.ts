/**
 * `tooltime run --resume --out DIR`: what an interrupted run left that can be kept. A line of
 * episodes.jsonl is appended only once its replay is whole on disk (run-output.ts), so a whole
 * line whose replay file still exists with bytes in it is a finished episode; a cut last line
 * (killed mid-write) and errored episodes (the infrastructure failed) run again.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EpisodeRecord } from '../scenarios/experiment.js';
import { canonicalJson } from '../scenarios/spec/canonical.js';
import { crc32 } from '../replays/format/format.js';
import { UsageError } from './errors.js';
import {
  DETERMINING,
  episodeKeyId,
  readEpisodeLines,
  RUN_FILE,
  type RunManifest,
} from './run-dir.js';

/** A kept episode: its record as read back, and its line exactly as episodes.jsonl holds it. */
export interface KeptEpisode {
  readonly record: EpisodeRecord;
  readonly line: string;
}

/** What determines results, for comparison (the cache folder and the request limits do not). */
function determining(m: RunManifest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of DETERMINING) out[key] = m[key];
  const model = { ...(m.model ?? {}) };
  delete model.cache;
  delete model.rateLimit;
  delete model.maxRequestsInFlight;
  out.model = model;
  return out;
}

/** Refuses (one line) when `now` would not produce what `recorded` started. */
export function checkSameRun(dir: string, recorded: RunManifest, now: RunManifest): void {
  const a = determining(recorded);
  const b = determining(now);
  for (const key of Object.keys(b)) {
    const was = canonicalJson(a[key] ?? null);
    const is = canonicalJson(b[key] ?? null);
    if (was === is) continue;
    const show = (text: string) => (text.length > 80 ? `${text.slice(0, 77)}...` : text);
    throw new UsageError(
      `--resume: ${join(dir, RUN_FILE)} records a different run (${key} was ${show(was)}, now ${show(is)}): give the same command, or a new --out`,
    );
  }
}

/** The finished, non-errored episodes of `dir`'s episodes.jsonl whose replays are present, by key. */
export function keptEpisodes(dir: string, wanted: ReadonlySet<string>): Map<string, KeptEpisode> {
  const kept = new Map<string, KeptEpisode>();
  for (const { record, text } of readEpisodeLines(dir, true)) {
    const id = episodeKeyId(record);
    if (!wanted.has(id) || record.endReason === 'errored') continue;
    if (typeof record.replay === 'string' && !endsWithTrailer(join(dir, record.replay))) continue;
    kept.set(id, { record, line: `${text}\n` });
  }
  return kept;
}

/** The longest trailer frame: length, [0, records (at most 9 bytes), 64-hex sha256 (66)], CRC. */
const TRAILER_TAIL = 1 + 1 + 1 + 9 + 66 + 4;

/**
 * Whether the file ends with a replay trailer frame (`[0, records, sha256]`, its CRC good): the
 * last thing a replay's writer writes, so a cheap test of a whole file (reads at most 82 bytes;
 * `tooltime replay verify` checks the rest).
 */
export function endsWithTrailer(path: string): boolean {
  const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  if (size < 16) return false;
  const tail = Buffer.alloc(Math.min(TRAILER_TAIL, size));
  const fd = openSync(path, 'r');
  try {
    readSync(fd, tail, 0, tail.length, size - tail.length);
  } finally {
    closeSync(fd);
  }
  for (let start = 0; start + 1 + 4 < tail.length; start++) {
    const length = tail[start]!;
    if (
      start + 1 + length + 4 !== tail.length ||
      tail[start + 1] !== 0x93 ||
      tail[start + 2] !== 0x00
    )
      continue;
    if (crc32(tail, start, start + 1 + length) === tail.readUInt32LE(tail.length - 4)) return true;
  }
  return false;
}
