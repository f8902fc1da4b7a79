/**
 * Re-scoring replays without re-running them: `scoreEpisode` on the decoded header scenario and
 * events, plus the plain facts of the episode (end, makespan, counts).
 */
import type { EndReason, EpisodeEvent } from '../../scenarios/world/events.js';
import type { Delivery, Mode } from '../../scenarios/protocol.js';
import { createAgent } from '../../agents/index.js';
import { computeReference, REFERENCE_AGENT } from '../../scenarios/experiment.js';
import {
  scoreEpisode,
  type EpisodeScore,
  type ScoreReference,
} from '../../scenarios/scoring/index.js';
import { ReplayError } from '../format/format.js';
import type { ReplayRead } from '../io/reader.js';
import { sourceOfRead, type EpisodeSource } from '../io/source.js';

export interface EpisodeFacts {
  readonly endReason: EndReason | null;
  /** Time of the last record (of `episode_ended` in a complete episode). */
  readonly makespanUs: number;
  readonly decisions: number;
  readonly calls: number;
  readonly answers: number;
}

export interface ReplaySummary extends EpisodeFacts {
  readonly file: string;
  readonly scenario: string;
  readonly agent: string;
  readonly seed: number;
  readonly mode: Mode;
  readonly delivery: Delivery;
  readonly complete: boolean;
  readonly records: number;
  /** Null when the events cannot be scored (see scoreError). */
  readonly score: EpisodeScore | null;
  readonly scoreError: string | null;
}

/** Counts of an episode, kept as its events go by. */
class FactCounter {
  endReason: EndReason | null = null;
  makespanUs = 0;
  decisions = 0;
  calls = 0;
  answers = 0;
  records = 0;

  add(e: EpisodeEvent): void {
    this.records++;
    this.makespanUs = e.timeUs;
    if (e.type === 'decision_started') this.decisions++;
    else if (e.type === 'call_issued') this.calls++;
    else if (e.type === 'answer_given') this.answers++;
    else if (e.type === 'episode_ended') this.endReason = e.reason;
  }

  facts(): EpisodeFacts {
    return {
      endReason: this.endReason,
      makespanUs: this.makespanUs,
      decisions: this.decisions,
      calls: this.calls,
      answers: this.answers,
    };
  }
}

/**
 * The reference a run scored the replay's episode against, recomputed from its header: the
 * scenario, seed and think-time override give the oracle's bound and the sequential reference.
 */
export function replayReference(
  read: Pick<ReplayRead, 'scenario' | 'header'>,
): Promise<ScoreReference> {
  const { header } = read;
  return computeReference(read.scenario, header.seed, header.world.thinkTime, () =>
    createAgent(REFERENCE_AGENT),
  );
}

/** The replay's summary with the score a run gave it: every field, the references included. */
export function rescoreReplay(read: ReplayRead): Promise<ReplaySummary> {
  return rescoreSource(sourceOfRead(read));
}

/** As `rescoreReplay`, reading the events of `source` once (a file is streamed, not held). */
export async function rescoreSource(source: EpisodeSource): Promise<ReplaySummary> {
  let reference: ScoreReference | undefined;
  try {
    reference = await replayReference(source);
  } catch {
    reference = undefined; // a scenario that cannot be run is reported by scoring it, below
  }
  return summarizeSource(source, reference);
}

/** The replay's summary; without `reference` the bound and sequential reference are null. */
export function summarizeReplay(read: ReplayRead, reference?: ScoreReference): ReplaySummary {
  return summarizeSource(sourceOfRead(read), reference);
}

/**
 * The summary of `source`, its events read once: scoring holds what it needs per call and per
 * decision, not the events. A record that cannot be read (a ReplayError) is thrown, not taken for
 * an episode that cannot be scored.
 */
export function summarizeSource(source: EpisodeSource, reference?: ScoreReference): ReplaySummary {
  const counter = new FactCounter();
  const events = source.events()[Symbol.iterator]();
  const counted: Iterable<EpisodeEvent> = {
    [Symbol.iterator]: () => ({
      next: () => {
        const r = events.next();
        if (r.done !== true) counter.add(r.value);
        return r;
      },
    }),
  };
  let score: EpisodeScore | null = null;
  let scoreError: string | null = null;
  try {
    score = scoreEpisode(source.scenario, counted, reference);
  } catch (error) {
    if (error instanceof ReplayError) throw error;
    scoreError = error instanceof Error ? error.message : String(error);
  }
  // Scoring stops at episode_ended; the facts count every record.
  for (let r = events.next(); r.done !== true; r = events.next()) counter.add(r.value);
  const { header } = source;
  const end = source.end();
  return {
    file: source.file,
    scenario: source.scenario.id,
    agent: header.agent.spec,
    seed: header.seed,
    mode: header.world.mode,
    delivery: header.world.delivery,
    complete: end.complete,
    records: counter.records,
    ...counter.facts(),
    score,
    scoreError,
  };
}
