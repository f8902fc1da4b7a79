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
      return writeText(source, write);
    case 'jsonl':
      return writeJsonl(source, write);
    case 'chrome':
      return writeChrome(source, write);
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

function writeChrome(read: EpisodeSource, sink: Write): void {
  const PID = 1;
  let endUs = 0;
  const meta: TraceEvent[] = [];
  const out: TraceEvent[] = [];
  let nextTid = 1;
  const lane = (name: string): number => {
    const tid = nextTid++;
    meta.push({ name: 'thread_name', ph: 'M', pid: PID, tid, args: { name } });
    meta.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid, args: { sort_index: tid } });
    return tid;
  };
  meta.push({
    name: 'process_name',
    ph: 'M',
    pid: PID,
    tid: 0,
    args: { name: `${read.scenario.id} / ${read.header.agent.spec} / seed ${read.header.seed}` },
  });
  const agentTid = lane('agent (thinking)');
  const taskTid = new Map<string, number>();
  for (const t of read.scenario.tasks) taskTid.set(t.id, lane(`task ${t.id}`));
  const taskLane = (task: string): number =>
    taskTid.get(task) ?? taskTid.set(task, lane(`task ${task}`)).get(task)!;

  // Agent decisions, task spans, instants.
  let open: { decision: number; startUs: number } | null = null;
  const arrived = new Map<string, number>();
  const lastAnswer = new Map<string, number>();
  const calls: CallSpan[] = [];
  const byId = new Map<number, CallSpan>();
  let delivered = 0;
  let records = 0;
  for (const e of read.events()) {
    endUs = e.timeUs;
    records++;
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
        out.push({
          name: `decision ${e.decision}`,
          cat: 'decision',
          ph: 'X',
          ts: startUs,
          dur: e.timeUs - startUs,
          pid: PID,
          tid: agentTid,
          args: {
            thinkUs: e.thinkUs,
            resultsDelivered: delivered,
            actions: e.actions,
            note: e.note,
          },
        });
        open = null;
        break;
      }
      case 'task_arrived':
        arrived.set(e.task, e.timeUs);
        taskLane(e.task);
        break;
      case 'message_arrived':
        out.push({
          name: `follow-up ${e.index}`,
          cat: 'task',
          ph: 'i',
          s: 't',
          ts: e.timeUs,
          pid: PID,
          tid: taskLane(e.task),
          args: { index: e.index },
        });
        break;
      case 'answer_given':
        lastAnswer.set(e.task, e.timeUs);
        out.push({
          name: 'answer',
          cat: 'task',
          ph: 'i',
          s: 't',
          ts: e.timeUs,
          pid: PID,
          tid: taskLane(e.task),
          args: { content: e.content },
        });
        break;
      case 'action_rejected':
        out.push({
          name: 'action rejected',
          cat: 'agent',
          ph: 'i',
          s: 't',
          ts: e.timeUs,
          pid: PID,
          tid: agentTid,
          args: { decision: e.decision, action: e.action, reason: e.reason },
        });
        break;
      case 'limit_hit':
        out.push({
          name: `limit ${e.limit}`,
          cat: 'episode',
          ph: 'i',
          s: 'g',
          ts: e.timeUs,
          pid: PID,
          tid: agentTid,
        });
        break;
      case 'episode_ended':
        out.push({
          name: `episode ended: ${e.reason}`,
          cat: 'episode',
          ph: 'i',
          s: 'g',
          ts: e.timeUs,
          pid: PID,
          tid: agentTid,
          args: { reason: e.reason, detail: e.detail },
        });
        break;
      case 'call_issued': {
        const span: CallSpan = {
          callId: e.callId,
          tool: e.tool,
          issuedUs: e.timeUs,
          e,
          startedUs: null,
          endUs: null,
          outcome: null,
        };
        calls.push(span);
        byId.set(e.callId, span);
        break;
      }
      case 'call_started': {
        const span = byId.get(e.callId);
        if (span !== undefined) span.startedUs = e.timeUs;
        break;
      }
      case 'call_completed': {
        const span = byId.get(e.callId);
        if (span !== undefined) {
          span.endUs = e.timeUs;
          span.outcome = e.ok ? { ok: true, result: e.result } : { ok: false, error: e.error };
        }
        break;
      }
      case 'episode_started':
        break;
    }
  }
  if (open !== null)
    out.push({
      name: `decision ${open.decision} (unfinished)`,
      cat: 'decision',
      ph: 'X',
      ts: open.startUs,
      dur: endUs - open.startUs,
      pid: PID,
      tid: agentTid,
    });
  for (const [task, atUs] of arrived) {
    const answeredUs = lastAnswer.get(task);
    out.push({
      name: `task ${task}`,
      cat: 'task',
      ph: 'X',
      ts: atUs,
      dur: (answeredUs ?? endUs) - atUs,
      pid: PID,
      tid: taskLane(task),
      args: { answered: answeredUs !== undefined },
    });
  }

  // Tool lanes: each tool's calls packed into as few lanes as do not overlap.
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
        l = {
          tid: lane(lanes.length === 0 ? `tool ${tool}` : `tool ${tool} #${lanes.length + 1}`),
          freeUs: 0,
        };
        lanes.push(l);
      }
      l.freeUs = end;
      const args = {
        callId: c.callId,
        step: c.e.task === null ? null : `${c.e.task}/${c.e.step}`,
        attempt: c.e.attempt,
        args: c.e.args,
        ref: c.e.ref,
        invalid: c.e.invalid,
        ...(c.outcome ?? { unfinished: true }),
      };
      out.push({
        name: `${tool} #${c.callId}`,
        cat: 'call',
        ph: 'X',
        ts: c.issuedUs,
        dur: end - c.issuedUs,
        pid: PID,
        tid: l.tid,
        args,
      });
      const started = c.startedUs ?? end;
      if (started > c.issuedUs)
        out.push({
          name: 'queued',
          cat: 'call',
          ph: 'X',
          ts: c.issuedUs,
          dur: started - c.issuedUs,
          pid: PID,
          tid: l.tid,
        });
      if (c.startedUs !== null)
        out.push({
          name: 'in service',
          cat: 'call',
          ph: 'X',
          ts: c.startedUs,
          dur: end - c.startedUs,
          pid: PID,
          tid: l.tid,
        });
    }
    if (own.length === 0) lane(`tool ${tool}`);
  }

  // Stable order: by time, longer spans first (parents before children), then as generated.
  const indexed = out.map((e, i) => ({ e, i }));
  indexed.sort((x, y) => x.e.ts! - y.e.ts! || (y.e.dur ?? 0) - (x.e.dur ?? 0) || x.i - y.i);
  const other = {
    scenario: read.scenario.id,
    agent: read.header.agent.spec,
    seed: read.header.seed,
    mode: read.header.world.mode,
    delivery: read.header.world.delivery,
    records,
    complete: read.end().complete,
  };
  buffered(sink, (write) => {
    write('{"traceEvents":[\n');
    let first = true;
    for (const e of meta) {
      write(`${first ? '' : ',\n'}${JSON.stringify(e)}`);
      first = false;
    }
    for (const x of indexed) {
      write(`${first ? '' : ',\n'}${JSON.stringify(x.e)}`);
      first = false;
    }
    write(`\n],\n"displayTimeUnit":"ms",\n"otherData":${JSON.stringify(other)}}\n`);
  });
}
