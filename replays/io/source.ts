/**
 * An episode to show, compare or score, from a replay read into memory or from a file read a
 * window at a time: the formatters, `diff` and scoring take an `EpisodeSource` and read its events
 * as often as they need (a file is read again each time), so a replay of millions of records costs
 * time in proportion, not memory.
 */
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import type { Scenario } from '../../scenarios/spec/schema.js';
import type { ReplayHeader } from '../format/header.js';
import {
  DEFAULT_MAX_BYTES,
  openReplayStream,
  type ReplayRead,
  type ReplaySizes,
} from './reader.js';

/** How the records end, as `ReplayRead` says it. */
export interface SourceEnd {
  readonly records: number;
  readonly complete: boolean;
  readonly problem: string | null;
  readonly recordsSha256: string | null;
  readonly sizes: ReplaySizes;
}

export interface EpisodeSource {
  readonly file: string;
  readonly header: ReplayHeader;
  readonly scenario: Scenario;
  /** The events from the first record; each call reads them from the start again. */
  events(): Iterable<EpisodeEvent>;
  /** How the records end (reads them through once, if nothing has yet). */
  end(): SourceEnd;
}

export function sourceOfRead(read: ReplayRead): EpisodeSource {
  const end: SourceEnd = {
    records: read.events.length,
    complete: read.complete,
    problem: read.problem,
    recordsSha256: read.recordsSha256,
    sizes: read.sizes,
  };
  return {
    file: read.file,
    header: read.header,
    scenario: read.scenario,
    events: () => read.events,
    end: () => end,
  };
}

/**
 * The replay file at `path`, its header read now (a ReplayError or ReplayTruncatedError as
 * `readReplayFile` throws); its records are read, and checked, each time `events()` is iterated.
 */
export function fileSource(path: string, maxBytes = DEFAULT_MAX_BYTES): EpisodeSource {
  const first = openReplayStream(path, maxBytes);
  first.close();
  let end: SourceEnd | null = null;
  function* events(): Generator<EpisodeEvent> {
    const stream = openReplayStream(path, maxBytes);
    try {
      for (let e = stream.scanner.next(); e !== null; e = stream.scanner.next()) yield e;
      const r = stream.scanner.end;
      end ??= {
        records: r.records,
        complete: r.complete,
        problem: r.problem,
        recordsSha256: r.recordsSha256,
        sizes: {
          total: r.total,
          header: stream.recordsStart,
          records: r.recordsEnd - stream.recordsStart,
          trailer: r.trailerBytes,
        },
      };
    } finally {
      stream.close();
    }
  }
  return {
    file: path,
    header: first.header,
    scenario: first.scenario,
    events,
    end: () => {
      if (end === null) for (const _ of events());
      return end!;
    },
  };
}
