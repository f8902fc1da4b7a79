/**
 * Re-scoring replays without re-running them: `scoreEpisode` on the decoded header scenario and
 * events, plus the plain facts of the episode (end, makespan, counts).
 */
import type { EndReason, EpisodeEvent } from '../../scenarios/world/events.js';
import type { Delivery, Mode } from '../../scenarios/protocol.js';
import { createAgent } from '../../agents/index.js';
import { computeReference, REFERENCE_AGENT } from '../../scenarios/experiment.js';
import { scoreEpisode, type EpisodeScore, type ScoreReference } from '../../scenarios/scoring/index.js';
import type { ReplayRead } from '../io/reader.js';

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

export function episodeFacts(events: readonly EpisodeEvent[]): EpisodeFacts {
  let endReason: EndReason | null = null;
  let decisions = 0;
  let calls = 0;
  let answers = 0;
  for (const e of events) {
    if (e.type === 'decision_started') decisions++;
    else if (e.type === 'call_issued') calls++;
    else if (e.type === 'answer_given') answers++;
    else if (e.type === 'episode_ended') endReason = e.reason;
  }
  return { endReason, makespanUs: events.at(-1)?.timeUs ?? 0, decisions, calls, answers };
}

/**
 * The score of a decoded replay, as scoring the in-memory episode gives it; without `reference`,
 * the bound and the sequential reference (and what is computed from them) are null.
 */
export function scoreReplay(read: ReplayRead, reference?: ScoreReference): EpisodeScore {
  return scoreEpisode(read.scenario, read.events, reference);
}

/**
 * The reference a run scored the replay's episode against, recomputed from its header: the
 * scenario, seed and think-time override give the oracle's bound and the sequential reference.
 */
export function replayReference(read: ReplayRead): Promise<ScoreReference> {
  const { header } = read;
  return computeReference(read.scenario, header.seed, header.world.thinkTime, () => createAgent(REFERENCE_AGENT));
}

/** The replay's summary with the score a run gave it: every field, the references included. */
export async function rescoreReplay(read: ReplayRead): Promise<ReplaySummary> {
  let reference: ScoreReference | undefined;
  try {
    reference = await replayReference(read);
  } catch {
    reference = undefined; // a scenario that cannot be run is reported by scoring it, below
  }
  return summarizeReplay(read, reference);
}

export function summarizeReplay(read: ReplayRead, reference?: ScoreReference): ReplaySummary {
  let score: EpisodeScore | null = null;
  let scoreError: string | null = null;
  try {
    score = scoreReplay(read, reference);
  } catch (error) {
    scoreError = error instanceof Error ? error.message : String(error);
  }
  const { header } = read;
  return {
    file: read.file,
    scenario: read.scenario.id,
    agent: header.agent.spec,
    seed: header.seed,
    mode: header.world.mode,
    delivery: header.world.delivery,
    complete: read.complete,
    records: read.events.length,
    ...episodeFacts(read.events),
    score,
    scoreError,
  };
}
