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

/**
 * Every instance of the scenario's environments after record `record` (0-based; the last record
 * when the replay has fewer): shared ones once, the others once per task that uses them.
 */
export function statesAt(source: EpisodeSource, record: number): StatesAt {
  const layout = compiledScenario(source.scenario).environments;
  const replay = new StateReplay(layout);
  let index = -1;
  for (const ev of source.events()) {
    if (index + 1 > record) break;
    index++;
    replay.apply(ev);
  }
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
  return {
    record: index,
    records: source.end().records,
    instances,
    divergedAt: replay.diverged?.index ?? null,
  };
}
