import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import {
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  type ReadStream,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../../agents/index.js';
import type { EpisodeEvent } from '../../../scenarios/world/events.js';
import {
  encodeReplay,
  makeHeader,
  readReplay,
  recordEpisode,
  ReplayRecorder,
  ReplayWriteError,
  ReplayWriter,
  replayScenario,
  type ReplayHeader,
} from '../../../replays/index.js';
import { BATCH_BYTES, MAX_BATCHES_IN_FLIGHT } from '../../../replays/io/writer-protocol.js';
import { exampleScenarios } from '../../support/replays.js';

const tmp = mkdtempSync(join(tmpdir(), 'tooltime-writer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Recorded {
  readonly header: ReplayHeader;
  readonly events: readonly EpisodeEvent[];
  readonly bytes: Uint8Array;
}

async function recorded(): Promise<Recorded[]> {
  const out: Recorded[] = [];
  for (const s of exampleScenarios().slice(0, 4)) {
    for (const seed of [1, 2]) {
      const r = await recordEpisode({ scenario: s, agent: createAgent('greedy-async'), seed });
      out.push({ header: r.header, events: r.episode.events, bytes: r.bytes! });
    }
  }
  return out;
}

/** Waits (bounded) until `done()` holds: the writer thread works on its own time. */
async function eventually(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`not within 5 s: ${what}`);
}

/** Events readable in the file so far; -1 while it is missing or its header is half written. */
function eventsIn(path: string): number {
  try {
    return readReplay(new Uint8Array(readFileSync(path))).events.length;
  } catch {
    return -1;
  }
}

interface Drain {
  readonly reader: ReadStream;
  /** Settles once the reader has the FIFO open (so the thread's open of it returns). */
  readonly opened: Promise<unknown>;
  /** Every byte read, once the reader has closed (the thread closed its end). */
  readonly bytes: Promise<Buffer>;
}

/**
 * Reads the FIFO at `path` to its end. Both promises listen from the start: the reader may open,
 * or close, before the test gets round to awaiting it (a 'close' listened for only after
 * `writer.close()` settled was never heard when the reader closed first: issue 19's hang).
 */
function drainFifo(path: string): Drain {
  const chunks: Buffer[] = [];
  const reader = createReadStream(path).on('data', (d) => chunks.push(d as Buffer));
  const opened = once(reader, 'open');
  const bytes = once(reader, 'close').then(() => Buffer.concat(chunks));
  return { reader, opened, bytes };
}

describe('ReplayWriter: replay files written on a thread of their own', () => {
  it('writes the bytes a recorder makes in memory, for episodes recorded at once (records interleaved), live or not', async () => {
    const episodes = await recorded();
    const writer = new ReplayWriter();
    const recorders = episodes.map(
      (e, i) =>
        new ReplayRecorder(
          e.header,
          writer.sink(join(tmp, `same-${i}.ttr`), { live: i % 2 === 0 }),
        ),
    );
    // One record of each episode in turn, as episodes run with --concurrency do.
    const longest = Math.max(...episodes.map((e) => e.events.length));
    for (let k = 0; k < longest; k++)
      episodes.forEach((e, i) =>
        k < e.events.length ? recorders[i]!.record(e.events[k]!) : undefined,
      );
    for (const r of recorders) r.finish();
    await writer.close();
    episodes.forEach((e, i) =>
      expect(new Uint8Array(readFileSync(join(tmp, `same-${i}.ttr`)))).toStrictEqual(e.bytes),
    );
  });

  it('a record larger than a batch, and more records than fit in many batches, arrive whole and in order', async () => {
    const s = replayScenario(exampleScenarios()[0]!);
    const header = makeHeader({ scenario: s, agent: 'greedy-async', seed: 1 });
    const events: EpisodeEvent[] = [];
    for (const n of [
      10,
      3 * BATCH_BYTES,
      200,
      ...Array.from({ length: 400 }, (_, i) => (i * 37) % 1000),
    ]) {
      const decision = events.length / 2 + 1;
      events.push({ type: 'decision_started', timeUs: decision, decision });
      events.push({
        type: 'decision_ended',
        timeUs: decision,
        decision,
        thinkUs: 0,
        actions: [],
        note: 'n'.repeat(n),
      });
    }
    const writer = new ReplayWriter();
    const path = join(tmp, 'big.ttr');
    const recorder = new ReplayRecorder(header, writer.sink(path, { live: false }), s);
    for (const e of events) recorder.record(e);
    recorder.finish();
    expect(writer.batchesPosted).toBeGreaterThan(4);
    await writer.close();
    // Buffer.equals: a deep comparison of ~600 KB takes seconds.
    expect(readFileSync(path).equals(encodeReplay(header, events, s))).toBe(true);
  });

  it("a live episode's decisions go to the thread when the process next waits; a policy's (live: false) when it ends", async () => {
    const [e] = await recorded();
    const ends = e!.events.flatMap((x, i) => (x.type === 'decision_ended' ? [i] : []));
    const writer = new ReplayWriter();
    const livePath = join(tmp, 'live.ttr');
    const wholePath = join(tmp, 'whole.ttr');
    const live = new ReplayRecorder(e!.header, writer.sink(livePath));
    const whole = new ReplayRecorder(e!.header, writer.sink(wholePath, { live: false }));
    const upTo = e!.events.slice(0, ends[1]! + 1);
    for (const x of upTo) {
      live.record(x);
      whole.record(x);
    }
    expect(writer.batchesPosted).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.batchesPosted).toBe(1);
    // The live file has its two decisions (read as truncated: no trailer yet); the other only its header.
    await eventually(() => eventsIn(livePath) === upTo.length, 'the live decisions written');
    expect(readReplay(new Uint8Array(readFileSync(livePath))).events).toStrictEqual(upTo);
    expect(readReplay(new Uint8Array(readFileSync(wholePath))).events).toStrictEqual([]);
    for (const x of e!.events.slice(upTo.length)) {
      live.record(x);
      whole.record(x);
    }
    live.finish();
    whole.finish();
    await writer.close();
    expect(new Uint8Array(readFileSync(livePath))).toStrictEqual(e!.bytes);
    expect(new Uint8Array(readFileSync(wholePath))).toStrictEqual(e!.bytes);
  });

  it('a file the thread cannot write is a ReplayWriteError naming it, from the next batch handed over or from close(); the other files are written', async () => {
    const episodes = await recorded();
    const blocked = join(tmp, 'blocked');
    mkdirSync(join(blocked, 'x.ttr'), { recursive: true }); // a folder where the file should go
    const writer = new ReplayWriter();
    const write = (path: string, e: Recorded) => {
      const r = new ReplayRecorder(e.header, writer.sink(path, { live: false }));
      for (const x of e.events) r.record(x);
      r.finish();
    };
    write(join(blocked, 'x.ttr'), episodes[0]!);
    write(join(blocked, 'ok-0.ttr'), episodes[1]!);
    // Later files keep the run going, batch after batch, until the failure comes back. Each batch
    // handed over is let written first: the thread reports a failure before it counts the batch
    // written, so the next hand-over has it however slow the thread is (a loaded machine).
    let thrown: unknown = null;
    for (let i = 1; i < 1000 && thrown === null; i++) {
      const posted = writer.batchesPosted;
      try {
        write(join(blocked, `ok-${i}.ttr`), episodes[i % episodes.length]!);
      } catch (error) {
        thrown = error;
      }
      if (writer.batchesPosted > posted)
        await eventually(() => writer.batchesInFlight === 0, 'the batch handed over written');
    }
    expect(thrown).toBeInstanceOf(ReplayWriteError);
    expect((thrown as Error).message).toMatch(
      new RegExp(
        `^cannot write replay ${join(blocked, 'x.ttr').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: EISDIR`,
      ),
    );
    // A second unwritable file is reported by close(), after everything else is written.
    mkdirSync(join(blocked, 'y.ttr'));
    write(join(blocked, 'y.ttr'), episodes[0]!);
    await expect(writer.close()).rejects.toThrow(/^cannot write replay .*y\.ttr: EISDIR/);
    expect(readReplay(new Uint8Array(readFileSync(join(blocked, 'ok-0.ttr')))).complete).toBe(true);
    expect(new Uint8Array(readFileSync(join(blocked, 'ok-0.ttr')))).toStrictEqual(
      episodes[1]!.bytes,
    );
  });

  it(`bounded: at most ${MAX_BATCHES_IN_FLIGHT} batches wait for a stalled thread; past the stall limit it is an error, and nothing handed over is lost`, async () => {
    const fifo = join(tmp, 'stall.fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = new ReplayWriter({ stallLimitMs: 300 });
    // The thread blocks opening the FIFO until something reads it: every batch after waits.
    const stalled = writer.sink(fifo, { live: false });
    stalled.write(new Uint8Array([1, 2, 3]));
    const chunk = new Uint8Array(BATCH_BYTES / 2).fill(7);
    let most = 0;
    let thrown: unknown = null;
    // Files whose sink took their chunk and closed without an error.
    let accepted = 0;
    for (let i = 0; i < 4 * MAX_BATCHES_IN_FLIGHT && thrown === null; i++) {
      try {
        const sink = writer.sink(join(tmp, `after-stall-${i}.bin`), { live: false });
        sink.write(chunk);
        sink.close();
        accepted++;
      } catch (error) {
        thrown = error;
      }
      most = Math.max(most, writer.batchesInFlight);
    }
    expect(most).toBe(MAX_BATCHES_IN_FLIGHT);
    expect(thrown).toBeInstanceOf(ReplayWriteError);
    expect((thrown as Error).message).toBe(
      `the replay writer thread wrote nothing for 0.3 s with ${MAX_BATCHES_IN_FLIGHT} batches waiting`,
    );
    // Something reads the FIFO at last: the thread goes on and writes everything it was given.
    const drain = drainFifo(fifo);
    await drain.opened;
    // The stall limit (0.3 s) holds for the next slot too: wait for the thread, not on a timing.
    await eventually(
      () => writer.batchesInFlight < MAX_BATCHES_IN_FLIGHT,
      'the thread writing again',
    );
    stalled.close();
    await writer.close();
    expect([...(await drain.bytes)]).toEqual([1, 2, 3]);
    expect(accepted).toBeGreaterThanOrEqual(MAX_BATCHES_IN_FLIGHT);
    const unwritten = Array.from({ length: accepted }, (_, i) =>
      join(tmp, `after-stall-${i}.bin`),
    ).filter((path) => !readFileSync(path).equals(chunk));
    expect(unwritten).toEqual([]);
  });

  it('regression (issue 19): a FIFO the thread writes is read to its end even when its reader closed before close() settled', async () => {
    const fifo = join(tmp, 'closed-first.fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = new ReplayWriter();
    const drain = drainFifo(fifo);
    const sink = writer.sink(fifo, { live: false });
    sink.write(new Uint8Array([4, 5, 6]));
    sink.close();
    await writer.close();
    // The order that hung the stall test under load, forced: the reader has seen the end of the
    // FIFO and closed before anything waits for it.
    await eventually(() => drain.reader.closed, 'the reader closed');
    expect([...(await drain.bytes)]).toEqual([4, 5, 6]);
  });
});
