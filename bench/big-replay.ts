/**
 * Writes one valid replay of about `records` records, for measuring what reading a long replay
 * costs (`replay inspect`, `replay diff`, `score`): `node dist/bench/big-replay.js OUT RECORDS`.
 * The agent issues one call per decision whose arguments match no step (so scoring stays cheap and
 * the plan stays tiny: the cost measured is the reading) and waits for its result (one call in
 * flight: an agent that never waits keeps the clock at 0 and its pending list grows), then answers
 * once the replay is long enough. About 6 records per decision.
 *
 * Measured on this 2-core machine, a replay of 1,999,998 records (27.6 MB), `/usr/bin/time -v`,
 * before (every record decoded into memory, output built as one string) and after (records read
 * through a 1 MiB window, output written as it goes; text and jsonl read the file twice):
 *
 *   command                          before               after
 *   replay inspect (text)            21.2 s, 1,682 MB     6.0 s, 155 MB (runs in a 40 MB heap)
 *   replay inspect --format jsonl     9.2 s, 1,401 MB     3.5 s, 125 MB (runs in a 40 MB heap)
 *   replay inspect --format chrome   11.5 s, 1,493 MB     4.2 s, 570 MB (a span per call, sorted)
 *   replay diff A B (other seed)     10.0 s, 1,026 MB     4.0 s, 474 MB
 *   replay diff A A' (identical)     19.9 s, 1,171 MB    11.9 s, 409 MB
 *   score A                           4.5 s,   596 MB     2.4 s, 294 MB
 *
 * What diff and score still hold is scoring's state: a record per call and per decision (333,333
 * of each here), not the events; the walk to the first divergence holds one record of each file.
 */
import { recordEpisode } from '../replays/index.js';
import type { Action, Agent, Decision } from '../scenarios/protocol.js';
import { parseScenario } from '../scenarios/spec/validate.js';

export async function writeBigReplay(out: string, records: number, seed = 1): Promise<number> {
  const decisions = Math.ceil(records / 6);
  const scenario = parseScenario({
    format: 'tooltime.scenario/1',
    id: 'long-episode',
    tools: [
      {
        name: 'op',
        description: 'an operation',
        parameters: { type: 'object' },
        latency: { kind: 'uniform', minMs: 1, maxMs: 3 },
        impl: { kind: 'table', rows: [], default: { result: 'done' } },
      },
    ],
    tasks: [
      {
        id: 't1',
        message: 'do it',
        steps: [{ id: 's0', tool: 'op', args: { n: -1 } }],
        answer: { mustContain: ['done'] },
      },
    ],
    limits: { maxTimeMs: 1e12, maxCalls: decisions + 10, maxDecisions: decisions + 10 },
  });
  const agent: Agent = {
    spec: 'long-episode',
    decide(o): Decision {
      const actions: Action[] =
        o.decision + 1 >= decisions
          ? [{ type: 'answer', task: 't1', content: 'done' }]
          : [{ type: 'call', tool: 'op', args: { n: o.decision } }, { type: 'wait' }];
      return { actions };
    },
  };
  const { summary } = await recordEpisode({ scenario, agent, seed, out });
  return summary.records;
}

const [out, records, seed] = process.argv.slice(2);
if (out !== undefined && records !== undefined && import.meta.url === `file://${process.argv[1]}`) {
  const n = await writeBigReplay(out, Number(records), seed === undefined ? 1 : Number(seed));
  process.stdout.write(`${out}: ${n} records\n`);
}
