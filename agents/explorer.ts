/**
 * The explorer baseline: before acting on a task, it looks around with harmless read-only calls
 * (one per environment the task's steps use: listing the root directory, the users, the tickets,
 * checking the balance, the cards, the vehicle's status), waits for them, then behaves like
 * greedy-async. Real models explore like that; the explorer shows what each scoring level makes of
 * it: the task still reaches its goal (sub-task success), while step F1 counts the probes as calls
 * off the reference trajectory. On a scenario without environments it is greedy-async exactly.
 *
 * It also checks before retrying a write whose response may have been lost (lost-writes.ts): it
 * counts what the write would create before writing, and after a failed attempt counts again;
 * only if nothing was created does it retry. The plan baselines retry blindly (their `retry`
 * parameter), so on the suite's lossy instances they book twice where the explorer does not.
 */
import type { Action, Decision, Observation } from '../scenarios/protocol.js';
import type { JsonValue, Scenario } from '../scenarios/spec/schema.js';
import { canonEqual } from '../scenarios/spec/canonical.js';
import type { PlanStep } from '../scenarios/world/plan.js';
import { GreedyAsync } from './baselines.js';
import { LostWriteGuards } from './lost-writes.js';

/** The probe of each environment kind: a read-only operation and its args. */
export const PROBES: { readonly [kind: string]: { operation: string; args: JsonValue } } = {
  filesystem: { operation: 'ls', args: { path: '/' } },
  inbox: { operation: 'list_users', args: {} },
  social: { operation: 'list_following', args: {} },
  tickets: { operation: 'list_tickets', args: {} },
  trading: { operation: 'get_account_balance', args: {} },
  travel: { operation: 'list_credit_cards', args: {} },
  vehicle: { operation: 'get_vehicle_status', args: {} },
};

interface Probe {
  readonly tool: string;
  readonly args: JsonValue;
}

/** Per task: the probe calls for the environments its steps use, in tool order (none: stateless). */
function probesByTask(scenario: Scenario): Map<string, Probe[]> {
  const kindOf = new Map((scenario.environments ?? []).map((e) => [e.id, e.kind]));
  const envOfTool = new Map<string, string>();
  const probeTool = new Map<string, string>();
  for (const tool of scenario.tools) {
    if (tool.impl.kind !== 'environment') continue;
    envOfTool.set(tool.name, tool.impl.environment);
    const kind = kindOf.get(tool.impl.environment);
    if (kind !== undefined && PROBES[kind]?.operation === tool.impl.operation)
      probeTool.set(tool.impl.environment, tool.name);
  }
  const out = new Map<string, Probe[]>();
  for (const task of scenario.tasks) {
    const envs = new Set<string>();
    for (const step of task.steps) {
      const env = envOfTool.get(step.tool);
      if (env !== undefined) envs.add(env);
    }
    const probes: Probe[] = [];
    for (const env of [...envs].sort()) {
      const tool = probeTool.get(env);
      const kind = kindOf.get(env)!;
      const args = PROBES[kind]!.args;
      // A probe some task's plan makes anyway (at its own time) is no exploration: skip it.
      const planned = scenario.tasks.some((t) =>
        t.steps.some((s) => s.tool === tool && canonEqual(s.args, args)),
      );
      if (tool !== undefined && !planned) probes.push({ tool, args });
    }
    out.set(task.id, probes);
  }
  return out;
}

export class Explorer extends GreedyAsync {
  private probes = new Map<string, Probe[]>();
  /** Tasks whose probes were issued, with how many are still undelivered. */
  private readonly outstanding = new Map<string, number>();
  private guards: LostWriteGuards | null = null;
  /** The checks this decision makes (set once the tracker has seen the observation). */
  private checks: Action[] = [];

  override start(context: Parameters<GreedyAsync['start']>[0]): void {
    super.start(context);
    this.probes = probesByTask(context.scenario);
    // One agent may run many episodes: what it explored belongs to the last one.
    this.outstanding.clear();
    this.guards = new LostWriteGuards(context.scenario);
  }

  /** Checks' verdicts first (a confirmed write makes its dependents ready), then the checks due. */
  protected override afterObserve(observation: Observation): void {
    super.afterObserve(observation);
    this.guards!.observe(observation, this.tracker);
    this.checks = this.guards!.checkCalls(this.tracker);
  }

  override decide(observation: Observation): Decision {
    for (const d of observation.delivered)
      if ((d.type === 'result' || d.type === 'error') && d.ref?.includes('/explore-') === true) {
        const task = d.ref.slice(0, d.ref.indexOf('/explore-'));
        this.outstanding.set(task, (this.outstanding.get(task) ?? 1) - 1);
      }
    const calls: Action[] = [];
    for (const open of observation.openTasks) {
      if (this.outstanding.has(open.id)) continue;
      const probes = this.probes.get(open.id) ?? [];
      const baselines = this.guards!.baselineCalls(open.id);
      this.outstanding.set(open.id, probes.length + baselines.length);
      for (const [i, p] of probes.entries())
        calls.push({
          type: 'call',
          tool: p.tool,
          args: p.args,
          ref: `${open.id}/explore-${i + 1}`,
        });
      calls.push(...baselines);
    }
    const decision = super.decide(observation);
    calls.push(...this.checks);
    this.checks = [];
    if (calls.length === 0) return decision;
    // The probes go first; then wait for something to be delivered, unless the policy already does.
    const waits = decision.actions.some((a) => a.type === 'wait');
    const tail: Action[] = waits ? [] : [{ type: 'wait' }];
    return { ...decision, actions: [...calls, ...decision.actions, ...tail] };
  }

  /** A task's steps wait until its probes' results are back (it acts on what it saw). */
  protected override readySteps(observation: Observation): PlanStep[] {
    return super
      .readySteps(observation)
      .filter(
        (s) =>
          ((this.outstanding.get(s.task) ?? 1) <= 0 ||
            (this.probes.get(s.task)?.length === 0 && !this.guards!.guards(s.task))) &&
          !this.guards!.holds(s, this.tracker),
      );
  }
}
