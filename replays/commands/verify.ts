/**
 * Verifying a replay: re-run the episode from its header alone and compare the recording byte for
 * byte. The agent comes from `makeAgent(header, recordedEvents)`: by default `defaultReplayAgent`
 * (the agent registry; a model agent fed its recorded responses from the `note` of each
 * `decision_ended` instead of calling the model; wrapped to replay its prefix when the file is a
 * fork). A caller can pass its own.
 *
 * On a mismatch the result names the first record that differs, both versions (decoded), and the
 * records just before it.
 */
import { resolve } from 'node:path';
import {
  AgentSpecError,
  isModelSpec,
  isModuleSpec,
  loadAgentModule,
  loadedAgentModule,
  makeReplayAgent,
} from '../../agents/index.js';
import { specName } from '../../agents/spec.js';
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import type { Agent } from '../../scenarios/protocol.js';
import { runEpisode } from '../../scenarios/world/world.js';
import { forkAgentFor, handoverIndex } from './fork.js';
import { holdsAt, ReplayError, sameBytes } from '../format/format.js';
import type { ReplayHeader } from '../format/header.js';
import { readReplay, ReplayTruncatedError, type ReplayRead } from '../io/reader.js';
import {
  MemorySink,
  ReplayRecorder,
  type RecordingSummary,
  type ReplaySink,
} from '../io/recorder.js';

/**
 * How to verify: the agent to re-run with (default: re-created from the header's spec; a model
 * agent answered by its recorded responses), the name for messages, the size cap, records of
 * context shown before a divergence, and an optional wall clock for timings.
 */
export interface VerifyOptions {
  readonly makeAgent?: (header: ReplayHeader, recorded: readonly EpisodeEvent[]) => Agent;
  readonly file?: string;
  readonly maxBytes?: number;
  /**
   * Policy modules the user trusts (`--policy ./my-policy.mjs`): a replay whose agent is one of
   * them is re-run with it. A replay is data: the module its header names is never loaded unless
   * listed here, so a file someone sends cannot make verify run code.
   */
  readonly policies?: readonly string[];
  /** Records shown before a divergence (default 5). */
  readonly context?: number;
  /**
   * A wall clock in ms for the `timing` figures (the benchmark passes `performance.now`). Absent,
   * timings are 0: replay code reads no clock of its own, as nothing under the simulation may.
   */
  readonly clock?: () => number;
}

const NO_CLOCK = (): number => 0;

/**
 * Where a re-run first differs from the recording: the record index, both events, and the
 * recorded events just before it.
 */
export interface Divergence {
  /** Index of the first record that differs. */
  readonly index: number;
  /** The recorded event there (null: the recording has fewer records). */
  readonly recorded: EpisodeEvent | null;
  /** The re-run's event there (null: the re-run has fewer records). */
  readonly rerun: EpisodeEvent | null;
  /** The recorded events just before it. */
  readonly before: readonly EpisodeEvent[];
}

/** Wall-clock milliseconds spent reading, re-running and comparing (0 without a clock). */
export interface VerifyTiming {
  readonly readMs: number;
  readonly rerunMs: number;
  readonly compareMs: number;
}

/**
 * A verdict: ok with the record count and digest, or not ok with the reason and, when the re-run
 * diverged, where.
 */
export type VerifyResult =
  | {
      readonly ok: true;
      readonly file: string;
      readonly records: number;
      readonly sha256: string;
      readonly timing: VerifyTiming;
    }
  | {
      readonly ok: false;
      readonly file: string;
      readonly records: number;
      readonly reason: string;
      readonly divergence: Divergence | null;
      readonly timing: VerifyTiming;
    };

/**
 * The agent a replay is re-run with when the caller gives none: the registry's agent for the
 * header's spec; a policy module's (`./my-policy.mjs`, resolved from the current directory, as
 * `tooltime run` resolved it), loaded first by the re-run; a model agent (`openai:MODEL`)
 * answered by its recorded responses, never the network (for a fork, the responses recorded after
 * the handover: the prefix's notes belong to the agent it replays); for a fork, wrapped to replay
 * the recorded prefix first.
 */
export function defaultReplayAgent(header: ReplayHeader, recorded: readonly EpisodeEvent[]): Agent {
  try {
    const spec = header.agent.spec;
    if (isModuleSpec(spec)) {
      const maker = loadedAgentModule(spec);
      if (maker === undefined)
        throw new AgentSpecError('its module is not loaded (verifyReplay loads it)');
      return forkAgentFor(header, recorded, maker());
    }
    if (!isModelSpec(spec)) return forkAgentFor(header, recorded);
    const own =
      header.forkedFrom === null
        ? recorded
        : recorded.slice(handoverIndex(recorded, header.forkedFrom.records));
    return forkAgentFor(header, recorded, makeReplayAgent(header, own));
  } catch (error) {
    throw cannotRecreate(header, error);
  }
}

/** True when the module a spec names is one of `policies` (both resolved from the current directory). */
export function isTrustedModule(
  spec: string,
  policies: readonly string[],
  cwd = process.cwd(),
): boolean {
  const path = resolve(cwd, specName(spec));
  return policies.some((p) => resolve(cwd, specName(p)) === path);
}

/**
 * Loads the policy module a header's agent is, so that `defaultReplayAgent` can make it; only a
 * module the user named (`policies`): otherwise a ReplayError saying how to name it.
 */
async function loadModuleOf(header: ReplayHeader, policies: readonly string[]): Promise<void> {
  const name = specName(header.agent.spec);
  if (!isTrustedModule(header.agent.spec, policies)) {
    throw new ReplayError(
      `the replay's agent is the policy module ${name}, and tooltime loads no module a file names: to re-run it with that module, pass --policy ${name} (only for code you trust)`,
    );
  }
  try {
    await loadAgentModule(header.agent.spec);
  } catch (error) {
    throw cannotRecreate(header, error);
  }
}

/** The ReplayError for a header's agent that cannot be made (an AgentSpecError); any other error as it is. */
function cannotRecreate(header: ReplayHeader, error: unknown): unknown {
  return error instanceof AgentSpecError
    ? new ReplayError(`cannot re-create agent "${header.agent.spec}": ${error.message}`)
    : error;
}

/** Re-runs a replay's episode into memory with the replay's own header. */
export async function rerun(
  read: ReplayRead,
  makeAgent: VerifyOptions['makeAgent'] = defaultReplayAgent,
  policies: readonly string[] = [],
): Promise<Uint8Array> {
  const sink = new MemorySink();
  await rerunInto(read, sink, makeAgent, policies);
  return sink.bytes();
}

/**
 * Takes a re-run's bytes and compares them with the recording's as they come, keeping a copy only
 * from where they first differ (with the recording's bytes before that): verifying a good replay
 * copies nothing.
 */
class CheckingSink implements ReplaySink {
  private at = 0;
  private copy: MemorySink | null = null;

  constructor(private readonly expected: Uint8Array) {}

  write(chunk: Uint8Array): void {
    if (this.copy === null) {
      if (holdsAt(this.expected, this.at, chunk)) {
        this.at += chunk.length;
        return;
      }
      this.copy = new MemorySink();
      this.copy.write(this.expected.subarray(0, this.at));
    }
    this.copy.write(chunk);
  }

  close(): void {}

  /** Everything written equals the recording, all of it. */
  get matches(): boolean {
    return this.copy === null && this.at === this.expected.length;
  }

  /** The bytes written. */
  bytes(): Uint8Array {
    return this.copy === null ? this.expected.slice(0, this.at) : this.copy.bytes();
  }
}

async function rerunInto(
  read: Pick<ReplayRead, 'file' | 'header' | 'scenario' | 'events'>,
  sink: ReplaySink,
  makeAgent: VerifyOptions['makeAgent'] = defaultReplayAgent,
  policies: readonly string[] = [],
): Promise<RecordingSummary> {
  const { header } = read;
  let agent: Agent;
  try {
    if (makeAgent === defaultReplayAgent && isModuleSpec(header.agent.spec))
      await loadModuleOf(header, policies);
    agent = makeAgent(header, read.events);
  } catch (error) {
    if (error instanceof ReplayError) throw new ReplayError(`${read.file}: ${error.message}`);
    throw error;
  }
  const recorder = new ReplayRecorder(header, sink, read.scenario);
  await runEpisode(read.scenario, agent, {
    seed: header.seed,
    mode: header.world.mode,
    delivery: header.world.delivery,
    ...(header.world.thinkTime === null ? {} : { thinkTime: header.world.thinkTime }),
    onEvent: recorder.onEvent,
  });
  return recorder.finish();
}

function frameBytes(bytes: Uint8Array, read: ReplayRead, i: number): Uint8Array {
  return bytes.subarray(read.offsets[i]!, read.offsets[i + 1]!);
}

/**
 * Re-runs a replay's episode from its header and checks that it produces the same bytes, record for
 * record. Resolves to a verdict (a divergence is a result, not an error); a replay that cannot be
 * read at all throws ReplayError. Needs no network: model agents are answered from the recording.
 */
export async function verifyReplay(
  bytes: Uint8Array,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const file = options.file ?? '<replay>';
  const now = options.clock ?? NO_CLOCK;
  const t0 = now();
  let read: ReplayRead;
  try {
    read = readReplay(bytes, {
      file,
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    });
  } catch (error) {
    // Cut before its header is whole: truncated like any other cut, with nothing to re-run.
    if (!(error instanceof ReplayTruncatedError)) throw error;
    const spent = now() - t0;
    return {
      ok: false,
      file,
      records: 0,
      reason: error.problem,
      divergence: null,
      timing: { readMs: spent, rerunMs: 0, compareMs: 0 },
    };
  }
  const t1 = now();
  const sink = new CheckingSink(bytes);
  await rerunInto(read, sink, options.makeAgent, options.policies);
  const t2 = now();
  const records = read.events.length;
  const timing = (): VerifyTiming => ({ readMs: t1 - t0, rerunMs: t2 - t1, compareMs: now() - t2 });
  if (read.complete && sink.matches)
    return { ok: true, file, records, sha256: read.recordsSha256!, timing: timing() };
  const fresh = sink.bytes();

  const again = readReplay(fresh, { file: `${file} (re-run)` });
  const n = Math.min(records, again.events.length);
  let index = -1;
  for (let i = 0; i < n; i++) {
    if (!sameBytes(frameBytes(bytes, read, i), frameBytes(fresh, again, i))) {
      index = i;
      break;
    }
  }
  if (index < 0 && records === again.events.length) {
    const reason = read.complete
      ? 'the records match but the files differ outside them'
      : `${read.problem ?? 'truncated'}; its ${records} records match the re-run`;
    return { ok: false, file, records, reason, divergence: null, timing: timing() };
  }
  if (index < 0) index = n;
  const before = read.events.slice(Math.max(0, index - (options.context ?? 5)), index);
  const divergence: Divergence = {
    index,
    recorded: read.events[index] ?? null,
    rerun: again.events[index] ?? null,
    before,
  };
  let reason: string;
  if (divergence.recorded === null && !read.complete)
    reason = `${read.problem ?? 'truncated'}; its ${records} records match the re-run, which has ${again.events.length}`;
  else if (divergence.recorded === null)
    reason = `the recording ends after ${records} records; the re-run goes on`;
  else if (divergence.rerun === null)
    reason = `the re-run ends after ${again.events.length} records; the recording goes on`;
  else reason = `record ${index} differs`;
  return { ok: false, file, records, reason, divergence, timing: timing() };
}
