/**
 * Dependency violations off the reference path (for calls of stateful tools that perform no
 * expected step): a call violates when one of its args' values first appeared in a call's result
 * that had not yet been delivered to the agent. "First appeared": before that result, the value
 * was in no request text the agent could have read, no result delivered, and no earlier call's
 * args (a value the agent wrote itself and later read back is its own). Read off the events, so
 * scoring judges a stored run exactly as it was.
 *
 * Only informative values count: strings of at least MIN_STRING_CHARS characters and numbers that
 * are not small integers; `true`, `0` or `"a"` turn up everywhere by chance.
 */
import type { EpisodeEvent } from './events.js';
import type { Plan } from './plan.js';
import type { JsonValue } from '../spec/schema.js';

const MIN_STRING_CHARS = 3;
const SMALL_INTEGER = 10;

/** The informative leaves of a JSON value, as keys (`s:text`, `n:12.5`). */
function leaves(value: JsonValue, out: string[] = [], depth = 0): string[] {
  if (depth > 64) return out;
  if (typeof value === 'string') {
    if (value.length >= MIN_STRING_CHARS) out.push(`s:${value}`);
  } else if (typeof value === 'number') {
    if (!Number.isInteger(value) || Math.abs(value) >= SMALL_INTEGER) out.push(`n:${value}`);
  } else if (Array.isArray(value)) for (const v of value) leaves(v, out, depth + 1);
  else if (value !== null && typeof value === 'object')
    for (const v of Object.values(value)) leaves(v, out, depth + 1);
  return out;
}

/** Whether `text` holds the number `digits` (its JavaScript form) not inside a longer number. */
function numberInText(text: string, digits: string): boolean {
  for (let at = text.indexOf(digits); at >= 0; at = text.indexOf(digits, at + 1)) {
    const end = at + digits.length;
    const joinedBefore =
      /[0-9]/.test(text[at - 1] ?? '') || /\.[0-9]/.test(text.slice(at - 1, at + 1));
    const joinedAfter = /[0-9]/.test(text[end] ?? '') || /^\.[0-9]/.test(text.slice(end, end + 2));
    if (!joinedBefore && !joinedAfter) return true;
  }
  return false;
}

/** Where each value first appeared: the agent's side (null) or a call's result (its id). */
export class ValueProvenance {
  private readonly first = new Map<string, number | null>();
  private readonly texts: string[] = [];
  private readonly delivered = new Set<number>();
  private readonly results = new Map<number, JsonValue>();

  constructor(private readonly plan: Plan) {}

  /** Takes `ev` in; for a `call_issued` (judged before its args are taken in), whether it violates. */
  apply(ev: EpisodeEvent, judge: boolean): boolean {
    switch (ev.type) {
      case 'task_arrived': {
        const text = this.plan.task(ev.task)?.text;
        if (text !== undefined) this.texts.push(text);
        return false;
      }
      case 'message_arrived': {
        const text = this.plan.messages[ev.index]?.text;
        if (text !== undefined) this.texts.push(text);
        return false;
      }
      case 'call_completed':
        if (ev.ok) this.results.set(ev.callId, ev.result);
        if (ev.ok) for (const v of leaves(ev.result)) this.see(v, ev.callId);
        return false;
      case 'result_delivered':
        this.delivered.add(ev.callId);
        return false;
      case 'call_issued': {
        const values = leaves(ev.args);
        const violates = judge && values.some((v) => this.undelivered(v));
        for (const v of values) this.see(v, null);
        return violates;
      }
      default:
        return false;
    }
  }

  private see(value: string, source: number | null): void {
    if (this.first.has(value)) return;
    // A value a request's text holds was the agent's to read (texts arrive before results use them).
    // A number counts when the text holds it as a word ("buy 10 shares" gives 10 and "$5000" 5000).
    const inText = value.startsWith('s:')
      ? this.texts.some((t) => t.includes(value.slice(2)))
      : this.texts.some((t) => numberInText(t, value.slice(2)));
    this.first.set(value, inText ? null : source);
  }

  private undelivered(value: string): boolean {
    const source = this.first.get(value);
    return source !== undefined && source !== null && !this.delivered.has(source);
  }
}
