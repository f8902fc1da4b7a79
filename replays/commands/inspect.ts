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
import { sourceOfRead, type EpisodeSource } from '../io/source.js';

export type InspectFormat = 'text' | 'jsonl' | 'chrome';
export const INSPECT_FORMATS: readonly InspectFormat[] = ['text', 'jsonl', 'chrome'];

/** A sink for output: called with pieces of text, in order. */
export type Write = (text: string) => void;

/** The whole output for a replay read into memory. */
export function inspectReplay(read: ReplayRead, format: InspectFormat): string {
  return collect((write) => writeInspect(sourceOfRead(read), format, write));
}

/**
 * Writes `source` in `format` as it goes. Text and JSON lines read the records twice (the first
 * line says how many there are and whether the file is complete, and the text's columns fit the
 * widest value), holding one record at a time; a bad record is an error before anything is
 * written. A Chrome trace holds a span per call and decision (it is sorted by time), not the events.
 */
export function writeInspect(source: EpisodeSource, format: InspectFormat, write: Write): void {
  switch (format) {
    case 'text':
      writeText(source, write);
      return;
    case 'jsonl':
      writeJsonl(source, write);
      return;
    case 'chrome':
      writeChrome(source, write);
      return;
  }
}

function collect(fill: (write: Write) => void): string {
  const parts: string[] = [];
  fill((text) => parts.push(text));
  return parts.join('');
}

/** Writes in pieces of about 64 KiB: a write per line would cost more than the formatting. */
function buffered(write: Write, fill: (write: Write) => void): void {
  let parts: string[] = [];
  let size = 0;
  fill((text) => {
    parts.push(text);
    size += text.length;
    if (size >= 65536) {
      write(parts.join(''));
      parts = [];
      size = 0;
    }
  });
  if (parts.length > 0) write(parts.join(''));
}

function value(v: unknown): string {
  if (typeof v === 'string' && /^[\w./:@=+-]+$/.test(v)) return v;
  return JSON.stringify(v) ?? 'undefined';
}

function ms(us: number): string {
  return (us / 1000).toFixed(3);
}

export function formatText(read: ReplayRead): string {
  return collect((write) => writeText(sourceOfRead(read), write));
}

function writeText(source: EpisodeSource, out: Write): void {
  const { header } = source;
  // Loops, not Math.max(...events): spreading millions of arguments overflows the stack.
  let width = 8;
  let typeWidth = 0;
  for (const e of source.events()) {
    width = Math.max(width, ms(e.timeUs).length);
    typeWidth = Math.max(typeWidth, e.type.length);
  }
  const end = source.end();
  buffered(out, (write) => {
    const world = `${header.world.mode}/${header.world.delivery}${header.world.thinkTime === null ? '' : `, think ${JSON.stringify(header.world.thinkTime)}`}`;
    write(
      `# ${source.file}: scenario ${source.scenario.id}, agent ${header.agent.spec}, seed ${header.seed}, ${world} (tooltime ${header.tooltime})\n`,
    );
    if (header.forkedFrom !== null) {
      const f = header.forkedFrom;
      write(
        `# forked from ${f.sha256.slice(0, 12)}... at record ${f.records} (agent ${f.originalAgent}${f.agentSeed === null ? '' : `, agent seed ${f.agentSeed}`})\n`,
      );
    }
    const { sizes } = end;
    const perRecord = end.records === 0 ? 0 : sizes.records / end.records;
    const state = end.complete
      ? `complete, sha256 ${end.recordsSha256!.slice(0, 16)}...`
      : `INCOMPLETE: ${end.problem}`;
    write(
      `# ${end.records} records, ${state}; header ${sizes.header} B, records ${sizes.records} B (${perRecord.toFixed(1)} B/record)\n`,
    );
    let i = 0;
    for (const e of source.events()) {
      const fields = Object.entries(e)
        .filter(([k]) => k !== 'type' && k !== 'timeUs')
        .map(([k, v]) => `${k}=${value(v)}`)
        .join(' ');
      write(
        `${String(i++).padStart(5)}  ${ms(e.timeUs).padStart(width)} ms  ${e.type.padEnd(typeWidth)}  ${fields}\n`,
      );
    }
  });
}

export function formatJsonl(read: ReplayRead): string {
  return collect((write) => writeJsonl(sourceOfRead(read), write));
}

function writeJsonl(source: EpisodeSource, out: Write): void {
  const end = source.end();
  buffered(out, (write) => {
    write(
      `${JSON.stringify({ header: source.header, complete: end.complete, problem: end.problem, records: end.records, recordsSha256: end.recordsSha256 })}\n`,
    );
    for (const e of source.events()) write(`${JSON.stringify(e)}\n`);
  });
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

export function formatChrome(read: ReplayRead): string {
  return collect((write) => writeChrome(sourceOfRead(read), write));
}

/** Chrome trace events: one process, lanes (threads) for the agent, each task and each tool. */
const PID = 1;

/** A trace being built: its lanes' metadata and its events. */
class ChromeTrace {
  readonly meta: TraceEvent[] = [];
  readonly events: TraceEvent[] = [];
  private nextTid = 1;
  private readonly taskTids = new Map<string, number>();
  readonly agentTid: number;

  constructor(read: EpisodeSource) {
    const { scenario, header } = read;
    this.meta.push({
      name: 'process_name',
      ph: 'M',
      pid: PID,
      tid: 0,
      args: { name: `${scenario.id} / ${header.agent.spec} / seed ${header.seed}` },
    });
    this.agentTid = this.lane('agent (thinking)');
    for (const t of scenario.tasks) this.taskLane(t.id);
  }

  /** A new lane, named and sorted in the order made. */
  lane(name: string): number {
    const tid = this.nextTid++;
    this.meta.push({ name: 'thread_name', ph: 'M', pid: PID, tid, args: { name } });
    this.meta.push({
      name: 'thread_sort_index',
      ph: 'M',
      pid: PID,
      tid,
      args: { sort_index: tid },
    });
    return tid;
  }

  /** The lane of `task`, made when first met. */
  taskLane(task: string): number {
    let tid = this.taskTids.get(task);
    if (tid === undefined) this.taskTids.set(task, (tid = this.lane(`task ${task}`)));
    return tid;
  }

  /** A span (`X`) from `ts` for `dur` on lane `tid`. */
  span(name: string, cat: string, ts: number, dur: number, tid: number, args?: object): void {
    this.events.push({ name, cat, ph: 'X', ts, dur, pid: PID, tid, ...withArgs(args) });
  }

  /** An instant (`i`) of scope `s` (global, thread) at `ts` on lane `tid`. */
  instant(name: string, cat: string, s: 'g' | 't', ts: number, tid: number, args?: object): void {
    this.events.push({ name, cat, ph: 'i', s, ts, pid: PID, tid, ...withArgs(args) });
  }
}

function withArgs(args: object | undefined): { args?: Record<string, unknown> } {
  return args === undefined ? {} : { args: args as Record<string, unknown> };
}

/** What one pass over the events gathers besides the trace events it adds. */
interface EventPass {
  /** Time of the last event. */
  endUs: number;
  records: number;
  open: { decision: number; startUs: number } | null;
  delivered: number;
  readonly arrived: Map<string, number>;
  readonly lastAnswer: Map<string, number>;
  readonly calls: CallSpan[];
  readonly byId: Map<number, CallSpan>;
}

function writeChrome(read: EpisodeSource, sink: Write): void {
  const trace = new ChromeTrace(read);
  const pass: EventPass = {
    endUs: 0,
    records: 0,
    open: null,
    delivered: 0,
    arrived: new Map(),
    lastAnswer: new Map(),
    calls: [],
    byId: new Map(),
  };
  for (const e of read.events()) {
    pass.endUs = e.timeUs;
    pass.records++;
    traceEvent(trace, pass, e);
  }
  traceUnfinished(trace, pass);
  traceToolLanes(trace, read, pass.calls, pass.endUs);
  writeTrace(sink, trace, {
    scenario: read.scenario.id,
    agent: read.header.agent.spec,
    seed: read.header.seed,
    mode: read.header.world.mode,
    delivery: read.header.world.delivery,
    records: pass.records,
    complete: read.end().complete,
  });
}

/** Agent decisions, task instants and the calls' times, event by event. */
function traceEvent(trace: ChromeTrace, pass: EventPass, e: EpisodeEvent): void {
  const agent = trace.agentTid;
  switch (e.type) {
    case 'decision_started':
      pass.open = { decision: e.decision, startUs: e.timeUs };
      pass.delivered = 0;
      return;
    case 'result_delivered':
      pass.delivered++;
      return;
    case 'decision_ended': {
      const startUs = pass.open?.startUs ?? e.timeUs;
      trace.span(`decision ${e.decision}`, 'decision', startUs, e.timeUs - startUs, agent, {
        thinkUs: e.thinkUs,
        resultsDelivered: pass.delivered,
        actions: e.actions,
        note: e.note,
      });
      pass.open = null;
      return;
    }
    case 'task_arrived':
      pass.arrived.set(e.task, e.timeUs);
      trace.taskLane(e.task);
      return;
    case 'message_arrived':
      trace.instant(`follow-up ${e.index}`, 'task', 't', e.timeUs, trace.taskLane(e.task), {
        index: e.index,
      });
      return;
    case 'answer_given':
      pass.lastAnswer.set(e.task, e.timeUs);
      trace.instant('answer', 'task', 't', e.timeUs, trace.taskLane(e.task), {
        content: e.content,
      });
      return;
    case 'action_rejected':
      trace.instant('action rejected', 'agent', 't', e.timeUs, agent, {
        decision: e.decision,
        action: e.action,
        reason: e.reason,
      });
      return;
    case 'limit_hit':
      trace.instant(`limit ${e.limit}`, 'episode', 'g', e.timeUs, agent);
      return;
    case 'episode_ended':
      trace.instant(`episode ended: ${e.reason}`, 'episode', 'g', e.timeUs, agent, {
        reason: e.reason,
        detail: e.detail,
      });
      return;
    default:
      traceCall(pass, e);
  }
}

/** A call's issue, start and completion, kept for its tool's lanes. */
function traceCall(pass: EventPass, e: EpisodeEvent): void {
  if (e.type === 'call_issued') {
    const span: CallSpan = {
      callId: e.callId,
      tool: e.tool,
      issuedUs: e.timeUs,
      e,
      startedUs: null,
      endUs: null,
      outcome: null,
    };
    pass.calls.push(span);
    pass.byId.set(e.callId, span);
  } else if (e.type === 'call_started') {
    const span = pass.byId.get(e.callId);
    if (span !== undefined) span.startedUs = e.timeUs;
  } else if (e.type === 'call_completed') {
    const span = pass.byId.get(e.callId);
    if (span === undefined) return;
    span.endUs = e.timeUs;
    span.outcome = e.ok ? { ok: true, result: e.result } : { ok: false, error: e.error };
  }
}

/** The decision still open at the end, and each task's span from arrival to its last answer. */
function traceUnfinished(trace: ChromeTrace, pass: EventPass): void {
  const { open, endUs } = pass;
  if (open !== null) {
    const name = `decision ${open.decision} (unfinished)`;
    trace.span(name, 'decision', open.startUs, endUs - open.startUs, trace.agentTid);
  }
  for (const [task, atUs] of pass.arrived) {
    const answeredUs = pass.lastAnswer.get(task);
    trace.span(`task ${task}`, 'task', atUs, (answeredUs ?? endUs) - atUs, trace.taskLane(task), {
      answered: answeredUs !== undefined,
    });
  }
}

/** Tool lanes: each tool's calls packed into as few lanes as do not overlap. */
function traceToolLanes(
  trace: ChromeTrace,
  read: EpisodeSource,
  calls: readonly CallSpan[],
  endUs: number,
): void {
  const toolNames = [...read.scenario.tools.map((t) => t.name), ...calls.map((c) => c.tool)].filter(
    (t, i, all) => all.indexOf(t) === i,
  );
  for (const tool of toolNames) {
    const own = calls.filter((c) => c.tool === tool);
    const lanes: Array<{ tid: number; freeUs: number }> = [];
    for (const c of own) {
      const end = c.endUs ?? endUs;
      let l = lanes.find((x) => x.freeUs <= c.issuedUs);
      if (l === undefined) {
        const name = lanes.length === 0 ? `tool ${tool}` : `tool ${tool} #${lanes.length + 1}`;
        l = { tid: trace.lane(name), freeUs: 0 };
        lanes.push(l);
      }
      l.freeUs = end;
      traceCallSpans(trace, c, end, l.tid);
    }
    if (own.length === 0) trace.lane(`tool ${tool}`);
  }
}

/** A call's span on its lane, with its queued and in-service parts. */
function traceCallSpans(trace: ChromeTrace, c: CallSpan, end: number, tid: number): void {
  trace.span(`${c.tool} #${c.callId}`, 'call', c.issuedUs, end - c.issuedUs, tid, {
    callId: c.callId,
    step: c.e.task === null ? null : `${c.e.task}/${c.e.step}`,
    attempt: c.e.attempt,
    args: c.e.args,
    ref: c.e.ref,
    invalid: c.e.invalid,
    ...(c.outcome ?? { unfinished: true }),
  });
  const started = c.startedUs ?? end;
  if (started > c.issuedUs) trace.span('queued', 'call', c.issuedUs, started - c.issuedUs, tid);
  if (c.startedUs !== null) trace.span('in service', 'call', c.startedUs, end - c.startedUs, tid);
}

/** The trace as JSON: lanes, then events by time (longer spans first: parents before children). */
function writeTrace(sink: Write, trace: ChromeTrace, other: Record<string, unknown>): void {
  const indexed = trace.events.map((e, i) => ({ e, i }));
  indexed.sort((x, y) => x.e.ts! - y.e.ts! || (y.e.dur ?? 0) - (x.e.dur ?? 0) || x.i - y.i);
  buffered(sink, (write) => {
    write('{"traceEvents":[\n');
    let first = true;
    for (const e of [...trace.meta, ...indexed.map((x) => x.e)]) {
      write(`${first ? '' : ',\n'}${JSON.stringify(e)}`);
      first = false;
    }
    write(`\n],\n"displayTimeUnit":"ms",\n"otherData":${JSON.stringify(other)}}\n`);
  });
}
