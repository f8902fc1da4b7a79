/**
 * Forking a replay: reproduce its first N records exactly, then hand control to another agent.
 *
 * The episode is re-run from the header with a `ForkAgent`: for every decision that *starts*
 * within the first N records it replays the recorded decision (actions, thinkUs and note from its
 * `decision_ended`); the first decision that starts at record N or later goes to the new agent.
 * Handing over at a decision start (rather than after the last decision that ended within N) is
 * what makes the prefix exact: a decision's think time decides where its end falls among the world
 * events around it, so a decision the new agent makes could reorder records before N.
 *
 * Everything else follows from determinism: the world draws call latencies from streams keyed by
 * call identity, and replayed decisions state their think time, so the world after N is the
 * original world. Replayed decisions draw nothing from the world's think-time stream, so sampled
 * think times of the new agent's decisions start from that stream's beginning.
 *
 * The new agent's `start()` is called at the episode's start with the normal context (or, with
 * `seed`, its own random streams re-seeded: `seed` changes only the new agent's streams, never the
 * world, whose seed is the header's). Its first observation lets it catch up: `delivered` holds
 * everything delivered so far in the episode, in order, and `pending` the calls in flight (which
 * PlanTracker marks as in flight, so a baseline does not issue them again).
 *
 * The fork's header names the new agent and records `forkedFrom` (the source file's SHA-256, N,
 * `originalAgent`, the agent seed). Its `episode_started` names the source episode's agent (kept in
 * `originalAgent`): it is one of the reproduced records, so the wrapper carries that spec. A fork is
 * verifiable on its own: its records hold every replayed decision.
 */
import { createHash } from 'node:crypto';
import { createAgent } from '../../agents/index.js';
import { RandomStreams } from '../../engine/index.js';
import {
  AGENT_LIMIT_NAMES,
  type AgentLimitName,
  type EpisodeEvent,
  type LimitName,
} from '../../scenarios/world/events.js';
import type {
  Action,
  Agent,
  AgentContext,
  Decision,
  Delivered,
  Observation,
} from '../../scenarios/protocol.js';
import type { JsonValue } from '../../scenarios/spec/schema.js';
import type { Episode } from '../../scenarios/world/world.js';
import { ReplayError } from '../format/format.js';
import { episodeAgent, type ReplayHeader } from '../format/header.js';
import { readReplay, type ReplayRead } from '../io/reader.js';
import { recordEpisode, type RecordingSummary, type ReplaySink } from '../io/recorder.js';

/** A recorded decision to replay: what it did, or the error the agent raised. */
export type ReplayedDecision =
  | { readonly actions: readonly Action[]; readonly thinkUs: number; readonly note: JsonValue }
  | { readonly error: string }
  | { readonly stop: AgentLimitName };

const isAgentLimit = (limit: LimitName): limit is AgentLimitName =>
  (AGENT_LIMIT_NAMES as readonly string[]).includes(limit);

/**
 * The decisions to replay for a fork at `n`: every decision whose `decision_started` is among the
 * first `n` records and whose outcome the recording shows (its `decision_ended`; or an episode that
 * ended while it was thinking, on an error or a limit, or at a limit of the agent's own).
 */
export function replayedDecisions(
  events: readonly EpisodeEvent[],
  n: number,
): Map<number, ReplayedDecision> {
  const out = new Map<number, ReplayedDecision>();
  const limit = Math.min(n, events.length);
  for (let i = 0; i < limit; i++) {
    const started = events[i]!;
    if (started.type !== 'decision_started') continue;
    for (let j = i + 1; j < events.length; j++) {
      const e = events[j]!;
      if (e.type === 'decision_ended' && e.decision === started.decision) {
        out.set(started.decision, { actions: e.actions, thinkUs: e.thinkUs, note: e.note });
        break;
      }
      if (e.type === 'limit_hit' && isAgentLimit(e.limit)) {
        out.set(started.decision, { stop: e.limit });
        break;
      }
      if (e.type === 'episode_ended') {
        if (e.reason === 'errored') out.set(started.decision, { error: e.detail ?? 'agent error' });
        // Ended while thinking (the time limit): any think time reaching past the end replays it.
        else
          out.set(started.decision, {
            actions: [],
            thinkUs: e.timeUs - started.timeUs + 1,
            note: null,
          });
        break;
      }
      if (e.type === 'decision_started') break;
    }
  }
  return out;
}

/** Replays recorded decisions, then delegates to `next` (see the module comment). */
export class ForkAgent implements Agent {
  readonly spec: string;
  private accumulated: Delivered[] = [];
  private handedOver = false;
  /** The decision number the new agent took over at, or null while replaying. */
  handover: number | null = null;

  constructor(
    spec: string,
    private readonly decisions: ReadonlyMap<number, ReplayedDecision>,
    private readonly next: Agent,
    private readonly agentSeed: number | null,
  ) {
    this.spec = spec;
  }

  async start(context: AgentContext): Promise<void> {
    if (this.next.start === undefined) return;
    if (this.agentSeed === null) {
      await this.next.start(context);
      return;
    }
    const streams = new RandomStreams(this.agentSeed);
    await this.next.start({
      ...context,
      seed: this.agentSeed,
      random: (name) => streams.get(`agent/${name}`),
    });
  }

  decide(observation: Observation): Decision | Promise<Decision> {
    if (this.handedOver) return this.next.decide(observation);
    const replay = this.decisions.get(observation.decision);
    if (replay !== undefined) {
      for (const d of observation.delivered) this.accumulated.push(d);
      if ('error' in replay) throw new Error(replay.error);
      if ('stop' in replay) return { actions: [], stop: replay.stop };
      return replay.note === null
        ? { actions: replay.actions, thinkUs: replay.thinkUs }
        : { actions: replay.actions, thinkUs: replay.thinkUs, note: replay.note };
    }
    this.handedOver = true;
    this.handover = observation.decision;
    const delivered = [...this.accumulated, ...observation.delivered];
    this.accumulated = [];
    return this.next.decide({ ...observation, delivered });
  }
}

/** Index of the record where the new agent of a fork at `n` makes its first decision (its `decision_started`), or the number of records. */
export function handoverIndex(events: readonly EpisodeEvent[], n: number): number {
  const replayed = replayedDecisions(events, n);
  const i = events.findIndex((e) => e.type === 'decision_started' && !replayed.has(e.decision));
  return i < 0 ? events.length : i;
}

/**
 * The agent that re-runs a replay: its header's agent (`next`), wrapped for a fork so that the
 * recorded prefix decisions are replayed first.
 */
export function forkAgentFor(
  header: ReplayHeader,
  events: readonly EpisodeEvent[],
  next: Agent = createAgent(header.agent.spec),
): Agent {
  const origin = header.forkedFrom;
  if (origin === null) return next;
  const first = events[0];
  const spec = first?.type === 'episode_started' ? first.agent : origin.originalAgent;
  return new ForkAgent(spec, replayedDecisions(events, origin.records), next, origin.agentSeed);
}

export interface ForkOptions {
  /** Records to reproduce (0 to the number of records). */
  readonly at: number;
  /** Spec of the agent that takes over. */
  readonly agent: string;
  /** Re-seeds the new agent's own random streams (the world keeps the header's seed). */
  readonly seed?: number | null;
  /** Where to write the fork (a path or sink); default in memory. */
  readonly out?: ReplaySink | string;
  /** Name used in messages. */
  readonly file?: string;
  /** Makes the new agent from its spec (default: the agent registry). */
  readonly makeAgent?: (spec: string) => Agent;
}

export interface ForkResult {
  readonly source: ReplayRead;
  readonly header: ReplayHeader;
  readonly episode: Episode;
  /** The fork's bytes when written in memory, else null. */
  readonly bytes: Uint8Array | null;
  readonly summary: RecordingSummary;
  /** The decision the new agent took over at, or null when it never decided. */
  readonly handover: number | null;
}

export async function forkReplay(bytes: Uint8Array, options: ForkOptions): Promise<ForkResult> {
  const file = options.file ?? '<replay>';
  const source = readReplay(bytes, { file });
  const n = options.at;
  if (!Number.isSafeInteger(n) || n < 0 || n > source.events.length) {
    throw new ReplayError(
      `${file}: cannot fork at ${n}: the replay has ${source.events.length} records (fork at 0 to ${source.events.length})`,
    );
  }
  if (options.seed !== undefined && options.seed !== null && !Number.isSafeInteger(options.seed))
    throw new ReplayError(`${file}: the agent seed must be an integer`);
  const next = (options.makeAgent ?? createAgent)(options.agent);
  const { header } = source;
  const agentSeed =
    options.seed === undefined || options.seed === null || options.seed === header.seed
      ? null
      : options.seed;
  const first = source.events[0];
  const spec = first?.type === 'episode_started' ? first.agent : episodeAgent(header);
  const agent = new ForkAgent(spec, replayedDecisions(source.events, n), next, agentSeed);
  const recorded = await recordEpisode({
    scenario: source.scenario,
    agent,
    headerAgent: next.spec,
    seed: header.seed,
    mode: header.world.mode,
    delivery: header.world.delivery,
    thinkTime: header.world.thinkTime,
    forkedFrom: {
      sha256: createHash('sha256').update(bytes).digest('hex'),
      records: n,
      originalAgent: spec,
      agentSeed,
    },
    ...(options.out === undefined ? {} : { out: options.out }),
  });
  return {
    source,
    header: recorded.header,
    episode: recorded.episode,
    bytes: recorded.bytes,
    summary: recorded.summary,
    handover: agent.handover,
  };
}
