/**
 * The environment states of a replayed episode after a given record (`replay inspect --state-at`):
 * rebuilt from the events (each `state_changed` re-applies its call to its instance, as the world
 * did), and checked against the digests the replay recorded, so a state that diverged is named.
 */
import type { JsonValue } from '../../scenarios/spec/schema.js';
import { compiledScenario } from '../../scenarios/world/compiled.js';
import { StateReplay } from '../../scenarios/world/environments.js';
import type { EpisodeSource } from '../io/source.js';

/** One instance's state: its environment, the task whose copy it is (null: shared). */
export interface InstanceState {
  readonly environment: string;
  readonly task: string | null;
  readonly state: JsonValue;
}

/** The states after record `record`, and the first record whose recorded digest differs (or null). */
export interface StatesAt {
  readonly record: number;
  readonly records: number;
  readonly instances: readonly InstanceState[];
  readonly divergedAt: number | null;
}

/** Every instance of the scenario's environments, in declaration order, as `replay` has them now. */
function instancesNow(source: EpisodeSource, replay: StateReplay): InstanceState[] {
  const layout = compiledScenario(source.scenario).environments;
  const instances: InstanceState[] = [];
  for (const decl of source.scenario.environments ?? []) {
    const owners = decl.shared === true ? [null] : layout.usersOf(decl.id);
    for (const task of owners)
      instances.push({
        environment: decl.id,
        task,
        state: replay.states.get({ environment: decl.id, task }),
      });
  }
  return instances;
}

/**
 * Every instance of the scenario's environments after record `record` (0-based; the last record
 * when the replay has fewer): shared ones once, the others once per task that uses them.
 */
export function statesAt(source: EpisodeSource, record: number): StatesAt {
  const replay = new StateReplay(compiledScenario(source.scenario).environments);
  let index = -1;
  for (const ev of source.events()) {
    if (index + 1 > record) break;
    index++;
    replay.apply(ev);
  }
  return {
    record: index,
    records: source.end().records,
    instances: instancesNow(source, replay),
    divergedAt: replay.diverged?.index ?? null,
  };
}

/** One `state_changed` record and its instance's state after it (as `statesAt` rebuilds it). */
export interface StateChange {
  readonly record: number;
  readonly timeUs: number;
  readonly callId: number;
  readonly environment: string;
  readonly task: string | null;
  readonly state: JsonValue;
}

/** The initial states and each change, or why they were left out (over `maxBytes`). */
export type StateHistory =
  | {
      readonly initial: readonly InstanceState[];
      readonly changes: readonly StateChange[];
      readonly bytes: number;
      readonly divergedAt: number | null;
    }
  | { readonly initial: null; readonly bytes: number };

/**
 * The states of an episode in one pass (the report's state view): every instance's initial state
 * and, per `state_changed`, its instance's state after it; `bytes` counts the states' JSON, and
 * past `maxBytes` the pass stops and gives none (a bound on what the report embeds).
 */
export function stateHistory(source: EpisodeSource, maxBytes: number): StateHistory {
  const replay = new StateReplay(compiledScenario(source.scenario).environments);
  const initial = instancesNow(source, replay);
  const size = (state: JsonValue): number => Buffer.byteLength(JSON.stringify(state));
  let bytes = initial.reduce((sum, i) => sum + size(i.state), 0);
  const changes: StateChange[] = [];
  let record = -1;
  for (const ev of source.events()) {
    if (bytes > maxBytes) return { initial: null, bytes };
    record++;
    replay.apply(ev);
    if (ev.type !== 'state_changed') continue;
    const state = replay.states.get({ environment: ev.environment, task: ev.task });
    bytes += size(state);
    const { timeUs, callId, environment, task } = ev;
    changes.push({ record, timeUs, callId, environment, task, state });
  }
  if (bytes > maxBytes) return { initial: null, bytes };
  return { initial, changes, bytes, divergedAt: replay.diverged?.index ?? null };
}
