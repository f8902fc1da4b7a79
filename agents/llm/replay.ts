/**
 * Re-running a recorded model episode without the network: the agent rebuilt from the
 * configuration in its first decision note, answered by its recorded responses (recorded.ts).
 *
 * `makeReplayAgent(header, events)` has the shape `verifyReplay`'s `makeAgent` hook takes (only
 * `header.agent.spec` is read, so this layer needs nothing from replays/).
 */
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import type { Agent } from '../../scenarios/protocol.js';
import { AgentSpecError } from '../spec.js';
import { LlmAgent } from './agent.js';
import { notesOf } from './note.js';
import { recordedTransport, type RecordedOptions } from './recorded.js';
import { canonicalModelSpec, isModelSpec, llmConfig, modelOf } from './setup.js';

export function makeReplayAgent(
  header: { readonly agent: { readonly spec: string } },
  events: readonly EpisodeEvent[],
  options: Pick<RecordedOptions, 'check'> = {},
): Agent {
  const spec = header.agent.spec;
  if (!isModelSpec(spec))
    throw new AgentSpecError(`agent "${spec}" is not a model agent (openai:MODEL)`);
  const notes = notesOf(events);
  const config = notes.find((n) => n.config !== null)?.config ?? llmConfig(modelOf(spec), {});
  let finalError: string | null = null;
  let contextOverflow = false;
  for (const e of events) {
    if (e.type === 'episode_ended') finalError = e.reason === 'errored' ? e.detail : null;
    if (e.type === 'limit_hit') contextOverflow = e.limit === 'contextOverflow';
  }
  return new LlmAgent(canonicalModelSpec(spec), config, {
    transport: recordedTransport(notes, { finalError, contextOverflow, ...options }),
  });
}
