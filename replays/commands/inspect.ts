/**
 * Showing a replay: a readable timeline (`text`), one JSON object per line (`jsonl`), or a Chrome
 * trace (`chrome`) that opens in Perfetto (ui.perfetto.dev) or chrome://tracing.
 *
 * The Chrome trace has one process, and lanes (threads) for: the agent (each decision as a span
 * from its start to its end, with its actions), each task (from its arrival to its last answer,
 * with instants for follow-ups and answers), and each tool (each call as a span from issue to
 * completion, split into `queued` and `in service`; overlapping calls of a tool go to extra lanes
 * `tool #2`, `#3`...). Timestamps are the simulation's µs.
 */
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import type { ReplayRead } from '../io/reader.js';

export type InspectFormat = 'text' | 'jsonl' | 'chrome';
export const INSPECT_FORMATS: readonly InspectFormat[] = ['text', 'jsonl', 'chrome'];

export function inspectReplay(read: ReplayRead, format: InspectFormat): string {
  switch (format) {
    case 'text':
      return formatText(read);
    case 'jsonl':
      return formatJsonl(read);
    case 'chrome':
      return formatChrome(read);
  }
}

function value(v: unknown): string {
  if (typeof v === 'string' && /^[\w./:@=+-]+$/.test(v)) return v;
  return JSON.stringify(v) ?? 'undefined';
}

function ms(us: number): string {
  return (us / 1000).toFixed(3);
}

export function formatText(read: ReplayRead): string {
  const { header, sizes } = read;
  const lines: string[] = [];
  const world = `${header.world.mode}/${header.world.delivery}${header.world.thinkTime === null ? '' : `, think ${JSON.stringify(header.world.thinkTime)}`}`;
  lines.push(`# ${read.file}: scenario ${read.scenario.id}, agent ${header.agent.spec}, seed ${header.seed}, ${world} (tooltime ${header.tooltime})`);
  if (header.forkedFrom !== null) {
    const f = header.forkedFrom;
    lines.push(`# forked from ${f.sha256.slice(0, 12)}... at record ${f.records} (agent ${f.originalAgent}${f.agentSeed === null ? '' : `, agent seed ${f.agentSeed}`})`);
  }
  const perRecord = read.events.length === 0 ? 0 : sizes.records / read.events.length;
  const state = read.complete ? `complete, sha256 ${read.recordsSha256!.slice(0, 16)}...` : `INCOMPLETE: ${read.problem}`;
  lines.push(`# ${read.events.length} records, ${state}; header ${sizes.header} B, records ${sizes.records} B (${perRecord.toFixed(1)} B/record)`);
  // Loops, not Math.max(...events): spreading millions of arguments overflows the stack.
  let width = 8;
  let typeWidth = 0;
  for (const e of read.events) {
    width = Math.max(width, ms(e.timeUs).length);
    typeWidth = Math.max(typeWidth, e.type.length);
  }
  read.events.forEach((e, i) => {
    const fields = Object.entries(e)
      .filter(([k]) => k !== 'type' && k !== 'timeUs')
      .map(([k, v]) => `${k}=${value(v)}`)
      .join(' ');
    lines.push(`${String(i).padStart(5)}  ${ms(e.timeUs).padStart(width)} ms  ${e.type.padEnd(typeWidth)}  ${fields}`);
  });
  return `${lines.join('\n')}\n`;
}

export function formatJsonl(read: ReplayRead): string {
  const first = { header: read.header, complete: read.complete, problem: read.problem, records: read.events.length, recordsSha256: read.recordsSha256 };
  return `${[first, ...read.events].map((x) => JSON.stringify(x)).join('\n')}\n`;
}

interface TraceEvent {
  readonly name: string;
  readonly cat?: string;
  readonly ph: 'X' | 'i' | 'M';
  readonly ts?: number;
  readonly dur?: number;
  readonly pid: number;
  readonly tid: number;
  readonly s?: 'g' | 'p' | 't';
  readonly args?: Record<string, unknown>;
}

interface CallSpan {
  readonly callId: number;
  readonly tool: string;
  readonly issuedUs: number;
  readonly e: Extract<EpisodeEvent, { type: 'call_issued' }>;
  startedUs: number | null;
  endUs: number | null;
  outcome: Record<string, unknown> | null;
}


/** The trace's process id: one process, the episode. */
const PID = 1;

/** Trace lanes (Chrome "threads"), numbered in the order they are first named; `meta` names them. */
class TraceLanes {
  readonly meta: TraceEvent[] = [];
  private nextTid = 1;
  private readonly taskTid = new Map<string, number>();

  constructor(title: string) {
    this.meta.push({ name: 'process_name', ph: 'M', pid: PID, tid: 0, args: { name: title } });
  }

  lane(name: string): number {
    const tid = this.nextTid++;
    this.meta.push({ name: 'thread_name', ph: 'M', pid: PID, tid, args: { name } });
    this.meta.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid, args: { sort_index: tid } });
    return tid;
  }

  /** The task's lane, named the first time it is asked for. */
  task(task: string): number {
    return this.taskTid.get(task) ?? this.taskTid.set(task, this.lane(`task ${task}`)).get(task)!;
  }
}

/** Calls as spans, in issue order, from their `call_*` events. */
class CallSpans {
  readonly all: CallSpan[] = [];
  private readonly byId = new Map<number, CallSpan>();

  observe(e: Extract<EpisodeEvent, { type: 'call_issued' | 'call_started' | 'call_completed' }>): void {
    if (e.type === 'call_issued') {
      const span: CallSpan = { callId: e.callId, tool: e.tool, issuedUs: e.timeUs, e, startedUs: null, endUs: null, outcome: null };
      this.all.push(span);
      this.byId.set(e.callId, span);
      return;
    }
    const span = this.byId.get(e.callId);
    if (span === undefined) return;
    if (e.type === 'call_started') span.startedUs = e.timeUs;
    else {
      span.endUs = e.timeUs;
      span.outcome = e.ok ? { ok: true, result: e.result } : { ok: false, error: e.error };
    }
  }
}

/** Tool lanes: each tool's calls packed into as few lanes as do not overlap (queued, in service). */
function toolLaneSpans(read: ReplayRead, calls: readonly CallSpan[], trace: TraceLanes, endUs: number, out: TraceEvent[]): void {
  const toolNames = [...read.scenario.tools.map((t) => t.name), ...calls.map((c) => c.tool)].filter((t, i, all) => all.indexOf(t) === i);
  for (const tool of toolNames) {
    const own = calls.filter((c) => c.tool === tool);
    const lanes: Array<{ tid: number; freeUs: number }> = [];
    for (const c of own) {
      const end = c.endUs ?? endUs;
      let l = lanes.find((x) => x.freeUs <= c.issuedUs);
      if (l === undefined) {
        l = { tid: trace.lane(lanes.length === 0 ? `tool ${tool}` : `tool ${tool} #${lanes.length + 1}`), freeUs: 0 };
        lanes.push(l);
      }
      l.freeUs = end;
      const args = { callId: c.callId, step: c.e.task === null ? null : `${c.e.task}/${c.e.step}`, attempt: c.e.attempt, args: c.e.args, ref: c.e.ref, invalid: c.e.invalid, ...(c.outcome ?? { unfinished: true }) };
      out.push({ name: `${tool} #${c.callId}`, cat: 'call', ph: 'X', ts: c.issuedUs, dur: end - c.issuedUs, pid: PID, tid: l.tid, args });
      const started = c.startedUs ?? end;
      if (started > c.issuedUs) out.push({ name: 'queued', cat: 'call', ph: 'X', ts: c.issuedUs, dur: started - c.issuedUs, pid: PID, tid: l.tid });
      if (c.startedUs !== null) out.push({ name: 'in service', cat: 'call', ph: 'X', ts: c.startedUs, dur: end - c.startedUs, pid: PID, tid: l.tid });
    }
    if (own.length === 0) trace.lane(`tool ${tool}`);
  }
}

export function formatChrome(read: ReplayRead): string {
  const events = read.events;
  const endUs = events.at(-1)?.timeUs ?? 0;
  const out: TraceEvent[] = [];
  const lanes = new TraceLanes(`${read.scenario.id} / ${read.header.agent.spec} / seed ${read.header.seed}`);
  const agentTid = lanes.lane('agent (thinking)');
  for (const t of read.scenario.tasks) lanes.task(t.id);
  const taskLane = (task: string): number => lanes.task(task);

  // Agent decisions, task spans, instants.
  let open: { decision: number; startUs: number } | null = null;
  const arrived = new Map<string, number>();
  const lastAnswer = new Map<string, number>();
  const calls = new CallSpans();
  let delivered = 0;
  for (const e of events) {
    switch (e.type) {
      case 'decision_started':
        open = { decision: e.decision, startUs: e.timeUs };
        delivered = 0;
        break;
      case 'result_delivered':
        delivered++;
        break;
      case 'decision_ended': {
        const startUs = open?.startUs ?? e.timeUs;
        out.push({ name: `decision ${e.decision}`, cat: 'decision', ph: 'X', ts: startUs, dur: e.timeUs - startUs, pid: PID, tid: agentTid, args: { thinkUs: e.thinkUs, resultsDelivered: delivered, actions: e.actions, note: e.note } });
        open = null;
        break;
      }
      case 'task_arrived':
        arrived.set(e.task, e.timeUs);
        taskLane(e.task);
        break;
      case 'message_arrived':
        out.push({ name: `follow-up ${e.index}`, cat: 'task', ph: 'i', s: 't', ts: e.timeUs, pid: PID, tid: taskLane(e.task), args: { index: e.index } });
        break;
      case 'answer_given':
        lastAnswer.set(e.task, e.timeUs);
        out.push({ name: 'answer', cat: 'task', ph: 'i', s: 't', ts: e.timeUs, pid: PID, tid: taskLane(e.task), args: { content: e.content } });
        break;
      case 'action_rejected':
        out.push({ name: 'action rejected', cat: 'agent', ph: 'i', s: 't', ts: e.timeUs, pid: PID, tid: agentTid, args: { decision: e.decision, action: e.action, reason: e.reason } });
        break;
      case 'limit_hit':
        out.push({ name: `limit ${e.limit}`, cat: 'episode', ph: 'i', s: 'g', ts: e.timeUs, pid: PID, tid: agentTid });
        break;
      case 'episode_ended':
        out.push({ name: `episode ended: ${e.reason}`, cat: 'episode', ph: 'i', s: 'g', ts: e.timeUs, pid: PID, tid: agentTid, args: { reason: e.reason, detail: e.detail } });
        break;
      case 'call_issued':
      case 'call_started':
      case 'call_completed':
        calls.observe(e);
        break;
      case 'episode_started':
        break;
    }
  }
  if (open !== null) out.push({ name: `decision ${open.decision} (unfinished)`, cat: 'decision', ph: 'X', ts: open.startUs, dur: endUs - open.startUs, pid: PID, tid: agentTid });
  for (const [task, atUs] of arrived) {
    const answeredUs = lastAnswer.get(task);
    out.push({ name: `task ${task}`, cat: 'task', ph: 'X', ts: atUs, dur: (answeredUs ?? endUs) - atUs, pid: PID, tid: taskLane(task), args: { answered: answeredUs !== undefined } });
  }

  toolLaneSpans(read, calls.all, lanes, endUs, out);

  // Stable order: by time, longer spans first (parents before children), then as generated.
  const indexed = out.map((e, i) => ({ e, i }));
  indexed.sort((x, y) => x.e.ts! - y.e.ts! || (y.e.dur ?? 0) - (x.e.dur ?? 0) || x.i - y.i);
  const all = [...lanes.meta, ...indexed.map((x) => x.e)];
  const other = { scenario: read.scenario.id, agent: read.header.agent.spec, seed: read.header.seed, mode: read.header.world.mode, delivery: read.header.world.delivery, records: events.length, complete: read.complete };
  return `{"traceEvents":[\n${all.map((e) => JSON.stringify(e)).join(',\n')}\n],\n"displayTimeUnit":"ms",\n"otherData":${JSON.stringify(other)}}\n`;
}
