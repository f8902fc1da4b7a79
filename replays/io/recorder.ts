/**
 * Writing replays. `ReplayRecorder` streams: each event's frame is encoded as the event happens and
 * handed to the sink at the end of each decision (a file writes it out when the process next waits:
 * see FileSink), the trailer on `finish()`. So a process killed mid-episode leaves a
 * readable prefix. `encodeReplay` writes the same bytes to memory; both go through the same code,
 * so their bytes are identical.
 *
 *   const recorder = ReplayRecorder.open('run.ttr', { scenario, agent: agent.spec, seed: 1 });
 *   await runEpisode(recorder.scenario, agent, { seed: 1, onEvent: recorder.onEvent });
 *   recorder.finish();
 */
import { createHash, hash as hashOnce, type Hash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import type { Agent } from '../../scenarios/protocol.js';
import type { Scenario } from '../../scenarios/spec/schema.js';
import { runEpisode, type Episode } from '../../scenarios/world/world.js';
import { dictionaryFor } from '../format/dictionary.js';
import { RecordEncoder } from '../format/encode.js';
import { frame, PREFIX_BYTES, prefix } from '../format/format.js';
import { MsgWriter } from '../format/codec.js';
import {
  headerPayload,
  makeHeader,
  replayScenario,
  type HeaderOptions,
  type ReplayHeader,
} from '../format/header.js';
import { parseScenario } from '../../scenarios/spec/validate.js';

/** Where frames go. `write` must take the bytes before it returns (the buffer may be reused). */
export interface ReplaySink {
  write(chunk: Uint8Array): void;
  /**
   * A sink with `checkpoint` is handed the records at every decision (a `decision_ended`), then
   * checkpointed: the moment to make them durable. Without it, records come in chunks of about
   * 64 KiB and at the end.
   */
  checkpoint?(): void;
  close(): void;
}

/** Keeps what is written in memory, in one buffer that doubles as it fills. */
export class MemorySink implements ReplaySink {
  private buf = new Uint8Array(MEMORY_SINK_FIRST_BYTES);
  private used = 0;

  write(chunk: Uint8Array): void {
    if (this.used + chunk.length > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.used + chunk.length) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.buf.subarray(0, this.used));
      this.buf = grown;
    }
    this.buf.set(chunk, this.used);
    this.used += chunk.length;
  }

  close(): void {}

  /** The bytes written, in a new array. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.used);
  }
}

/** A short episode's replay fits in a buffer this size (a suite scenario's header is ~10 KB). */
const MEMORY_SINK_FIRST_BYTES = 16 * 1024;

export interface FileSinkOptions {
  /**
   * When a checkpoint (a decision's end) writes what was recorded: `idle` (the default), at the
   * next turn of the event loop, so a decision that waited on something (a model's reply) is on
   * disk as soon as the process waits again, while an episode that never waits (a baseline's,
   * microseconds long) is written in one go instead of one system call a decision; `decision`, at
   * once.
   */
  readonly writeAt?: 'idle' | 'decision';
}

/**
 * Appends to a file (created or truncated on open). Frames are buffered and written at a
 * checkpoint (see `writeAt`), when 64 KiB have gathered, and on close: a process killed mid-run
 * leaves a file whose complete frames are readable (the reader reports it as truncated), missing
 * at most what was recorded since the process last waited. When bytes are written never changes
 * which bytes are written.
 */
/** What a FileSink gathers before it writes (see `writeAt`). */
const FILE_SINK_BUFFER_BYTES = 64 * 1024;

export class FileSink implements ReplaySink {
  private fd: number | null;
  private buffer: Uint8Array | null = new Uint8Array(FILE_SINK_BUFFER_BYTES);
  private used = 0;
  private readonly writeAt: 'idle' | 'decision';
  private writeQueued = false;

  constructor(
    readonly path: string,
    options: FileSinkOptions = {},
  ) {
    this.writeAt = options.writeAt ?? 'idle';
    this.fd = openSync(path, 'w');
  }

  write(chunk: Uint8Array): void {
    const buffer = this.buffer;
    if (this.fd === null || buffer === null) throw new Error(`replay ${this.path} is closed`);
    if (this.used + chunk.length > buffer.length) this.flush();
    if (chunk.length > buffer.length) {
      this.writeAll(chunk);
      return;
    }
    buffer.set(chunk, this.used);
    this.used += chunk.length;
  }

  checkpoint(): void {
    if (this.used === 0) return;
    if (this.writeAt === 'decision') this.flush();
    else if (!this.writeQueued) {
      this.writeQueued = true;
      setImmediate(() => {
        this.writeQueued = false;
        if (this.fd !== null) this.flush();
      });
    }
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
    this.buffer = null;
  }

  private flush(): void {
    if (this.used === 0) return;
    this.writeAll(this.buffer!.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd!, bytes, off, bytes.length - off);
  }
}

/** Writes the prefix and the header frame to `sink`; returns their length. */
function writeHeaderFrame(sink: ReplaySink, header: ReplayHeader): number {
  const payload = headerPayload(header);
  const headerFrame = frame(payload, payload.length);
  sink.write(prefix());
  sink.write(headerFrame);
  return PREFIX_BYTES + headerFrame.length;
}

/** Record bytes a recorder holds before handing them to its sink and its hash (plus one frame). */
const CHUNK_BYTES = 64 * 1024;

/**
 * What a finished recording holds: its record count, the SHA-256 of its record frames (as in its
 * trailer), and header and record sizes in bytes.
 */
export interface RecordingSummary {
  readonly records: number;
  /** SHA-256 (hex) of the record frames, as in the trailer. */
  readonly sha256: string;
  readonly headerBytes: number;
  readonly recordBytes: number;
}

export class ReplayRecorder {
  readonly header: ReplayHeader;
  /** The scenario the recorded episode must run on (the parse of the header's). */
  readonly scenario: Scenario;
  /** Pass as `EpisodeOptions.onEvent`. */
  readonly onEvent: (event: EpisodeEvent) => void;
  private readonly sink: ReplaySink;
  private readonly encoder: RecordEncoder;
  /**
   * Record frames are encoded straight into this chunk; its bytes from `handed` on are not yet
   * the sink's. Once over CHUNK_BYTES the chunk goes to the sink and the hash and starts again.
   */
  private chunk: MsgWriter | null = new MsgWriter(4 * 1024);
  private handed = 0;
  /** Made once the records outgrow one chunk: most episodes' records are hashed in one call at the end. */
  private hash: Hash | null = null;
  private records = 0;
  private recordBytes = 0;
  private readonly headerBytes: number;
  private summary: RecordingSummary | null = null;

  /** `scenario`, when given, must be `replayScenario` of the scenario the header was made from. */
  constructor(header: ReplayHeader, sink: ReplaySink | string, scenario?: Scenario) {
    this.header = header;
    this.scenario = scenario ?? parseScenario(header.scenario, 'replay header scenario');
    this.encoder = new RecordEncoder(dictionaryFor(this.scenario), header);
    this.sink = typeof sink === 'string' ? new FileSink(sink) : sink;
    this.headerBytes = writeHeaderFrame(this.sink, header);
    this.onEvent = (event) => this.record(event);
  }

  /** Opens a recorder for an episode described by `options` (the scenario is made canonical). */
  static open(sink: ReplaySink | string, options: HeaderOptions): ReplayRecorder {
    const scenario = replayScenario(options.scenario);
    return new ReplayRecorder(makeHeader({ ...options, scenario }), sink, scenario);
  }

  /** Appends one event's frame; a sink that checkpoints gets the records at every decision. */
  record(event: EpisodeEvent): void {
    const w = this.chunk;
    if (w === null) throw new Error('the replay is finished');
    const before = w.pos;
    const endsDecision = this.encoder.append(w, event);
    this.records++;
    this.recordBytes += w.pos - before;
    if (w.pos >= CHUNK_BYTES) {
      this.handOver(w);
      (this.hash ??= createHash('sha256')).update(w.buf.subarray(0, w.pos));
      w.reset();
      this.handed = 0;
    }
    if (endsDecision && this.sink.checkpoint !== undefined) {
      this.handOver(w);
      this.sink.checkpoint();
    }
  }

  /** Writes the chunk's bytes the sink does not have yet. */
  private handOver(w: MsgWriter): void {
    if (w.pos > this.handed) this.sink.write(w.buf.subarray(this.handed, w.pos));
    this.handed = w.pos;
  }

  /** Closes the sink without a trailer (the file reads as truncated). */
  abort(): void {
    const w = this.chunk;
    if (w === null) return;
    this.handOver(w);
    this.chunk = null;
    this.summary = {
      records: this.records,
      sha256: '',
      headerBytes: this.headerBytes,
      recordBytes: this.recordBytes,
    };
    this.sink.close();
  }

  /** Writes the trailer and closes the sink; idempotent. */
  finish(_episode?: unknown): RecordingSummary {
    const w = this.chunk;
    if (w === null) return this.summary!;
    this.handOver(w);
    const rest = w.buf.subarray(0, w.pos);
    const sha256 =
      this.hash === null ? hashOnce('sha256', rest, 'hex') : this.hash.update(rest).digest('hex');
    this.chunk = null;
    this.sink.write(this.encoder.trailer(this.records, sha256));
    this.sink.close();
    this.summary = {
      records: this.records,
      sha256,
      headerBytes: this.headerBytes,
      recordBytes: this.recordBytes,
    };
    return this.summary;
  }
}

/** The replay of `events` in memory: the same bytes a ReplayRecorder writes. */
export function encodeReplay(
  header: ReplayHeader,
  events: readonly EpisodeEvent[],
  scenario?: Scenario,
): Uint8Array {
  const sink = new MemorySink();
  const recorder = new ReplayRecorder(header, sink, scenario);
  for (const e of events) recorder.record(e);
  recorder.finish();
  return sink.bytes();
}

/**
 * What `recordEpisode` runs and where it writes: the scenario, agent, seed and world (as
 * runEpisode takes them), the spec the header names, and a file path or sink (default: memory).
 */
export interface RecordOptions extends Omit<HeaderOptions, 'agent'> {
  readonly agent: Agent;
  /** The spec the header names; default `agent.spec` (a fork names its new agent here). */
  readonly headerAgent?: string;
  /** A file path or sink; default in memory. */
  readonly out?: ReplaySink | string;
}

/**
 * Runs one episode (as runEpisode does) while recording it as a replay (replays/FORMAT.md).
 * Resolves to the episode, the header, a summary and, when recorded in memory, the bytes; with
 * `out` a path, frames reach the file as the episode runs, so a killed run leaves a readable
 * prefix.
 */
export async function recordEpisode(options: RecordOptions): Promise<{
  episode: Episode;
  bytes: Uint8Array | null;
  summary: RecordingSummary;
  header: ReplayHeader;
}> {
  const scenario = replayScenario(options.scenario);
  const header = makeHeader({
    scenario,
    agent: options.headerAgent ?? options.agent.spec,
    seed: options.seed,
    ...(options.mode === undefined ? {} : { mode: options.mode }),
    ...(options.delivery === undefined ? {} : { delivery: options.delivery }),
    ...(options.thinkTime === undefined ? {} : { thinkTime: options.thinkTime }),
    ...(options.forkedFrom === undefined ? {} : { forkedFrom: options.forkedFrom }),
  });
  const memory = options.out === undefined ? new MemorySink() : null;
  const recorder = new ReplayRecorder(header, memory ?? options.out!, scenario);
  let episode: Episode;
  try {
    episode = await runEpisode(scenario, options.agent, {
      seed: header.seed,
      mode: header.world.mode,
      delivery: header.world.delivery,
      ...(header.world.thinkTime === null ? {} : { thinkTime: header.world.thinkTime }),
      onEvent: recorder.onEvent,
    });
  } catch (error) {
    // What was recorded stays: without a trailer it reads as truncated, which is the truth.
    recorder.abort();
    throw error;
  }
  const summary = recorder.finish();
  return { episode, bytes: memory === null ? null : memory.bytes(), summary, header };
}
