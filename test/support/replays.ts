/** Helpers for the replay tests: example scenarios, a chaotic agent that exercises every record form. */
import seedrandom from 'seedrandom';
import { canonicalize } from '../../scenarios/spec/canonical.js';
import { examplesDir, loadScenarios } from '../../scenarios/spec/load.js';
import { Plan } from '../../scenarios/world/plan.js';
import type { Action, Agent, Decision, Observation } from '../../scenarios/protocol.js';
import type { JsonValue, Scenario } from '../../scenarios/spec/schema.js';

let examples: Scenario[] | null = null;

export function exampleScenarios(): Scenario[] {
  examples ??= loadScenarios([examplesDir()]).map((x) => x.scenario);
  return examples;
}

/**
 * An agent that does a bit of everything, seeded: step calls with plan refs, model-style refs and
 * none, calls with wrong args, unknown tools, answers right and wrong, answers to unknown tasks,
 * polls, waits, stated think times, and notes (canonical JSON, so decoding gives them back exactly).
 */
export function chaoticAgent(scenario: Scenario, seed: number, spec = 'chaotic'): Agent {
  const plan = new Plan(scenario);
  const rnd = seedrandom.alea(`chaotic/${seed}`);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  let refs = 0;
  return {
    spec,
    decide(o: Observation): Decision {
      const actions: Action[] = [];
      const n = Math.floor(rnd() * 4);
      for (let i = 0; i < n; i++) {
        const r = rnd();
        const step = pick(plan.steps);
        if (r < 0.3)
          actions.push({ type: 'call', tool: step.tool, args: step.args, ref: step.key });
        else if (r < 0.45)
          actions.push({ type: 'call', tool: step.tool, args: step.args, ref: `call_${++refs}` });
        else if (r < 0.5) actions.push({ type: 'call', tool: step.tool, args: step.args });
        else if (r < 0.58)
          actions.push({
            type: 'call',
            tool: step.tool,
            args: { wrong: Math.floor(rnd() * 100) },
            ref: `call_${++refs}`,
          });
        else if (r < 0.62) actions.push({ type: 'call', tool: 'no_such_tool', args: { q: 'x' } });
        else if (r < 0.72) {
          const task = pick(plan.tasks);
          actions.push({
            type: 'answer',
            task: task.id,
            content:
              rnd() < 0.5 ? task.answer.mustContain.join('; ') : `guess ${Math.floor(rnd() * 10)}`,
          });
        } else if (r < 0.76) actions.push({ type: 'answer', task: 'nope', content: 'hm' });
        else if (r < 0.82) actions.push({ type: 'poll' });
        else if (r < 0.88) actions.push({ type: 'wait' });
        else actions.push({ type: 'wait', maxUs: Math.floor(rnd() * 500_000) });
      }
      // Never stall: a timed wait always wakes it again.
      if (!actions.some((a) => a.type !== 'wait'))
        actions.push({ type: 'wait', maxUs: 50_000 + Math.floor(rnd() * 500_000) });
      // Finish eventually: answer everything open with the expected answer.
      if (o.decision >= 15 && o.decision % 5 === 0)
        for (const t of plan.tasks)
          if (o.openTasks.some((x) => x.id === t.id))
            actions.push({ type: 'answer', task: t.id, content: t.answer.mustContain.join('; ') });
      const decision: { actions: Action[]; thinkUs?: number; note?: JsonValue } = { actions };
      if (rnd() < 0.5) decision.thinkUs = Math.floor(rnd() * 200_000);
      if (rnd() < 0.3) {
        decision.note = canonicalize({
          request: { model: 'm', messages: o.delivered.length, text: 'héllo ✓ 🚀' },
          response: {
            tokens: Math.floor(rnd() * 5000),
            p: rnd(),
            big: 2 ** 40 + 1,
            neg: -Math.floor(rnd() * 1e6),
          },
          ...(JSON.parse('{"__proto__": {"polluted": true}}') as object),
          list: [1, 2.5, null, true, 'x'.repeat(Math.floor(rnd() * 300))],
        } as unknown as JsonValue);
      }
      return decision;
    },
  };
}
