/**
 * Comparing two replays: the first record where they diverge (both versions), how their headers
 * differ, and a side-by-side summary of the two episodes (scores, makespan, counts). The agent
 * named in `episode_started` is left to the header comparison, so two agents' episodes diverge
 * where their behaviour does.
 */
import { canonicalJson } from '../../scenarios/spec/canonical.js';
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import type { ReplayRead } from '../io/reader.js';
import { summarizeSource, type ReplaySummary } from './score.js';
import { sourceOfRead, type EpisodeSource } from '../io/source.js';

export interface ReplayDiff {
  /** Same records (decoded events), in the same order. */
  readonly sameEvents: boolean;
  /** The first differing record, or null when the events are the same. */
  readonly divergence: {
    readonly index: number;
    readonly a: EpisodeEvent | null;
    readonly b: EpisodeEvent | null;
  } | null;
  /** Header fields that differ, as `field: A -> B`. */
  readonly header: readonly string[];
  readonly a: ReplaySummary;
  readonly b: ReplaySummary;
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** An event as compared: `episode_started` without the agent's name (the header comparison reports that). */
function comparable(e: EpisodeEvent): unknown {
  if (e.type !== 'episode_started') return e;
  const { agent: _agent, ...rest } = e;
  return rest;
}

export function diffReplays(a: ReplayRead, b: ReplayRead): ReplayDiff {
  return diffSources(sourceOfRead(a), sourceOfRead(b));
}

/**
 * Compares two episodes. The records are walked in step, one of each at a time, up to the first
 * divergence; each episode is then read once more for its summary (scoring holds a record per call
 * and per decision, not the events).
 */
export function diffSources(a: EpisodeSource, b: EpisodeSource): ReplayDiff {
  const header: string[] = [];
  const field = (name: string, x: unknown, y: unknown): void => {
    if (canonicalJson(x) !== canonicalJson(y)) header.push(`${name}: ${show(x)} -> ${show(y)}`);
  };
  if (canonicalJson(a.header.scenario) !== canonicalJson(b.header.scenario)) {
    header.push(
      a.scenario.id === b.scenario.id
        ? `scenario: ${a.scenario.id} (contents differ)`
        : `scenario: ${a.scenario.id} -> ${b.scenario.id}`,
    );
  }
  field('agent', a.header.agent.spec, b.header.agent.spec);
  field('seed', a.header.seed, b.header.seed);
  field('mode', a.header.world.mode, b.header.world.mode);
  field('delivery', a.header.world.delivery, b.header.world.delivery);
  field('thinkTime', a.header.world.thinkTime, b.header.world.thinkTime);
  field('forkedFrom', a.header.forkedFrom, b.header.forkedFrom);
  field('tooltime', a.header.tooltime, b.header.tooltime);

  const divergence = firstDivergence(a.events()[Symbol.iterator](), b.events()[Symbol.iterator]());
  return {
    sameEvents: divergence === null,
    divergence,
    header,
    a: summarizeSource(a),
    b: summarizeSource(b),
  };
}

function firstDivergence(
  a: Iterator<EpisodeEvent>,
  b: Iterator<EpisodeEvent>,
): ReplayDiff['divergence'] {
  try {
    for (let i = 0; ; i++) {
      const x = a.next();
      const y = b.next();
      if (x.done === true && y.done === true) return null;
      const ex = x.done === true ? null : x.value;
      const ey = y.done === true ? null : y.value;
      if (
        ex === null ||
        ey === null ||
        canonicalJson(comparable(ex)) !== canonicalJson(comparable(ey))
      )
        return { index: i, a: ex, b: ey };
    }
  } finally {
    // Stopped early: let a file's reader close.
    a.return?.();
    b.return?.();
  }
}
