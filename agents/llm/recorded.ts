/**
 * A transport that answers from recorded notes, in order, and never touches the network: what
 * verify, fork and re-scoring use to re-run a model episode.
 *
 * Each request must equal the recorded one (canonical JSON); a difference means the re-run has
 * diverged, and is an error naming the request (pass `check: false` to answer regardless, for
 * example when forking a modified scenario). When the recording runs out:
 * - if the recorded episode ended `errored` (`finalError` is its detail), that error is thrown
 *   again, so the re-run ends with the same reason;
 * - if it ended at the `contextOverflow` limit, the next request overflows again;
 * - otherwise `RecordingEnded` is thrown: the recorded episode hit its time limit while this turn
 *   was thinking (its note was never written), and the agent stands in a turn that outlasts the
 *   limit (agent.ts), so the re-run ends the same way.
 */
import { canonicalJson } from '../../scenarios/spec/canonical.js';
import type { JsonValue } from '../../scenarios/spec/schema.js';
import { readNote, type LlmNote } from './note.js';
import type { JsonObject } from './tools.js';
import {
  LlmContextOverflow,
  LlmTransportError,
  RecordingEnded,
  type Exchange,
  type Transport,
} from './transport.js';

export interface RecordedOptions {
  /** The detail of the recorded episode's `errored` ending, or null. */
  readonly finalError?: string | null;
  /** The recorded episode ended at the `contextOverflow` limit. */
  readonly contextOverflow?: boolean;
  /** Check each request against the recorded one (default true). */
  readonly check?: boolean;
}

/** `notes`: the model notes in decision order, parsed (`notesOf(events)`) or as recorded (other notes are skipped). */
export function recordedTransport(
  recorded: ReadonlyArray<LlmNote | JsonValue>,
  options: RecordedOptions = {},
): Transport {
  const notes = recorded
    .map((n) => readNote(n as JsonValue))
    .filter((n): n is LlmNote => n !== null);
  let next = 0;
  return {
    send(body: JsonObject): Promise<Exchange> {
      const i = next++;
      const note = notes[i];
      if (note === undefined) {
        const finalError = options.finalError ?? null;
        if (options.contextOverflow === true)
          return Promise.reject(
            new LlmContextOverflow(`request ${i + 1} exceeded the model's context when recorded`),
          );
        return Promise.reject(
          finalError !== null
            ? new Error(finalError)
            : new RecordingEnded(
                `the recording has ${notes.length} model responses; request ${i + 1} was not recorded`,
              ),
        );
      }
      if (options.check !== false && canonicalJson(body) !== canonicalJson(note.request)) {
        return Promise.reject(
          new LlmTransportError(`replay diverged: request ${i + 1} differs from the recorded one`),
        );
      }
      return Promise.resolve({
        response: note.response,
        latencyMs: note.latencyMs,
        attempts: note.attempts,
        unparsed: note.unparsed,
      });
    },
  };
}
