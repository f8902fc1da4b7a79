/**
 * What the model reads: observations rendered as chat text. One fixed wording, versioned with the
 * prompt (a change here is a new PROMPT_VERSION).
 *
 * - Async mode: each tool call is answered at once by a tool message saying it is pending; results
 *   and errors arrive later as lines of a user message naming the call id, the tool and its args.
 * - Sync mode: each call's tool message is its result (or error).
 * - Either mode: new tasks, follow-ups, rejected actions and nudges are lines of one user message
 *   per turn, each stamped with the simulated time, followed by a status line.
 */
import type { Delivered, Delivery, Mode, OpenTask, PendingCall } from '../../scenarios/protocol.js';
import type { JsonValue } from '../../scenarios/spec/schema.js';

/** Simulated time as seconds with ms precision: `t=1.250s`. */
export function stamp(atUs: number): string {
  return `t=${(atUs / 1e6).toFixed(3)}s`;
}

export function callLabel(ref: string, tool: string, args: JsonValue): string {
  return `${ref} ${tool}(${typeof args === 'string' ? args : JSON.stringify(args)})`;
}

export function pendingText(ref: string, tool: string, delivery: Delivery): string {
  const how =
    delivery === 'poll'
      ? 'use check_results to see results that have arrived'
      : 'its result will arrive in a later message naming this call id';
  return `Pending: call ${ref} to ${tool} has started; ${how}.`;
}

/** A sync-mode tool message: the call's outcome. */
export function outcomeText(d: Extract<Delivered, { type: 'result' | 'error' }>): string {
  return d.type === 'result' ? JSON.stringify(d.result) : `Error: ${d.error}`;
}

/** One line of a user message for a delivered item (rejections are worded by the agent). */
export function deliveredLine(d: Exclude<Delivered, { type: 'rejected' }>): string {
  switch (d.type) {
    case 'task':
      return `[${stamp(d.atUs)}] New task ${d.task}: ${d.text}`;
    case 'message':
      return `[${stamp(d.atUs)}] Follow-up message on task ${d.task}: ${d.text}`;
    case 'result':
      return `[${stamp(d.atUs)}] Result of call ${callLabel(d.ref ?? `#${d.callId}`, d.tool, d.args)}: ${JSON.stringify(d.result)}`;
    case 'error':
      return `[${stamp(d.atUs)}] Call ${callLabel(d.ref ?? `#${d.callId}`, d.tool, d.args)} failed: ${d.error}`;
  }
}

/** The closing status line: pending calls (async mode) and open tasks. */
export function statusLine(
  nowUs: number,
  mode: Mode,
  pending: readonly PendingCall[],
  openTasks: readonly OpenTask[],
): string {
  const tasks =
    openTasks.length === 0
      ? 'no open tasks'
      : `open tasks: ${openTasks.map((t) => t.id).join(', ')}`;
  if (mode === 'sync') return `[${stamp(nowUs)}] Status: ${tasks}.`;
  const calls =
    pending.length === 0
      ? 'no calls pending'
      : `calls pending: ${pending.map((p) => `${p.ref ?? `#${p.callId}`} ${p.tool}`).join(', ')}`;
  return `[${stamp(nowUs)}] Status: ${tasks}; ${calls}.`;
}
