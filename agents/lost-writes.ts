/**
 * Checking the state before retrying a write whose response may have been lost (the explorer's:
 * explorer.ts). A lost response (scenarios/world/world.ts) reads like a timeout without effect,
 * and a blind retry applies the write twice: a second booking, a duplicate order or message. So
 * before a write runs, the agent counts the items that write would create (a listing of its
 * environment: `WRITE_CHECKS`); after an attempt fails, it lists and counts again before retrying.
 * More than before: an attempt applied, the step is done (`PlanTracker.confirmed`); as many: none
 * did, and it retries. A listing that fails leaves a blind retry, as a plan baseline does.
 *
 * Guarded are the steps whose tool's failure model has a `lostRate` (a plan-aware agent reads the
 * scenario; a model would have to check after every timeout). The listings name their task when
 * the tool takes `task_id` (scenarios/world/environments.ts), so they read the task's own copy
 * and never perform another task's step.
 */
import type { Action, Observation } from '../scenarios/protocol.js';
import { canonEqual } from '../scenarios/spec/canonical.js';
import type { JsonValue, Scenario } from '../scenarios/spec/schema.js';
import { compiledScenario } from '../scenarios/world/compiled.js';
import { TASK_PARAM } from '../scenarios/world/environments.js';
import type { PlanStep } from '../scenarios/world/plan.js';
import type { PlanTracker } from '../scenarios/world/tracker.js';

/**
 * How to see a write's effect: the read-only operation that lists what it creates, the list's key
 * in that result, and the item fields that equal the write's args (item field, arg name).
 */
export interface WriteCheck {
  readonly read: string;
  readonly list: string;
  readonly fields: ReadonlyArray<readonly [string, string]>;
}

/** By environment kind and operation: the writes that create something a listing shows. */
export const WRITE_CHECKS: {
  readonly [kind: string]: { readonly [operation: string]: WriteCheck };
} = {
  inbox: {
    send_message: {
      read: 'list_sent_messages',
      list: 'messages',
      fields: [
        ['to', 'receiverId'],
        ['text', 'text'],
      ],
    },
  },
  trading: {
    place_order: {
      read: 'list_orders',
      list: 'orders',
      fields: [
        ['symbol', 'symbol'],
        ['side', 'side'],
        ['quantity', 'quantity'],
      ],
    },
  },
  travel: {
    book_flight: {
      read: 'list_bookings',
      list: 'bookings',
      fields: ['from', 'to', 'date', 'travelClass', 'cardId'].map((f) => [f, f] as const),
    },
  },
};

type Obj = { readonly [key: string]: JsonValue };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** How many items of a listing's `result` the write with `args` would have created. */
export function countMatching(check: WriteCheck, result: JsonValue, args: JsonValue): number {
  const items = isObj(result) ? result[check.list] : undefined;
  if (!Array.isArray(items) || !isObj(args)) return 0;
  return items.filter(
    (item) =>
      isObj(item) &&
      check.fields.every(([f, a]) => item[f] !== undefined && canonEqual(item[f], args[a]!)),
  ).length;
}

interface Guard {
  readonly step: PlanStep;
  readonly check: WriteCheck;
  /** The listing's call (naming the task when the tool takes `task_id`). */
  readonly read: { readonly tool: string; readonly args: JsonValue };
  /** Matching items before the first attempt (null: not known yet, or the listing failed). */
  baseline: number | null;
  /** Failures whose check is settled: a retry after each is allowed. */
  checked: number;
  checking: boolean;
}

/** A listing in flight: for the baseline of its guards, or to check one after a failure. */
interface Listing {
  readonly guards: readonly Guard[];
  readonly baseline: boolean;
}

export class LostWriteGuards {
  private readonly byStep = new Map<string, Guard>();
  private readonly listings = new Map<string, Listing>();
  private count = 0;

  constructor(scenario: Scenario) {
    const layout = compiledScenario(scenario).environments;
    const plan = compiledScenario(scenario).plan;
    const kindOf = new Map((scenario.environments ?? []).map((e) => [e.id, e.kind]));
    for (const step of plan.steps) {
      const tool = scenario.tools.find((t) => t.name === step.tool);
      if (tool?.impl.kind !== 'environment' || !(tool.failure?.lostRate ?? 0)) continue;
      const env = tool.impl.environment;
      const check = WRITE_CHECKS[kindOf.get(env) ?? '']?.[tool.impl.operation];
      const reader = scenario.tools.find(
        (t) =>
          t.impl.kind === 'environment' &&
          t.impl.environment === env &&
          t.impl.operation === check?.read,
      );
      if (check === undefined || reader === undefined) continue;
      const named = layout.taskChoices(reader.name)?.includes(step.task) === true;
      const args: JsonValue = named ? { [TASK_PARAM]: step.task } : {};
      const read = { tool: reader.name, args };
      this.byStep.set(step.key, { step, check, read, baseline: null, checked: 0, checking: false });
    }
  }

  /** The listings to make before `task` writes (refs with `/explore-`, as the explorer's probes). */
  baselineCalls(task: string): Action[] {
    const byTool = new Map<string, Guard[]>();
    for (const g of this.byStep.values())
      if (g.step.task === task) byTool.set(g.read.tool, [...(byTool.get(g.read.tool) ?? []), g]);
    return [...byTool.values()].map((guards) => this.listing(guards, true, 'explore-base'));
  }

  private listing(guards: readonly Guard[], baseline: boolean, kind: string): Action {
    const ref = `${guards[0]!.step.task}/${kind}-${++this.count}`;
    this.listings.set(ref, { guards, baseline });
    const { tool, args } = guards[0]!.read;
    return { type: 'call', tool, args, ref };
  }

  /** Takes the listings' results in: baselines, and each check's verdict (see the module comment). */
  observe(observation: Observation, tracker: PlanTracker): void {
    for (const d of observation.delivered) {
      if ((d.type !== 'result' && d.type !== 'error') || d.ref === null) continue;
      const listing = this.listings.get(d.ref);
      if (listing === undefined) continue;
      this.listings.delete(d.ref);
      for (const g of listing.guards) {
        const seen = d.type === 'result' ? countMatching(g.check, d.result, g.step.args) : null;
        if (listing.baseline) {
          g.baseline = seen;
          continue;
        }
        g.checking = false;
        if (seen !== null && g.baseline !== null && seen > g.baseline)
          tracker.confirmed(g.step, d.atUs);
        else g.checked = tracker.get(g.step).failures;
      }
    }
  }

  /** Whether some step of `task` is guarded (so it lists before it writes). */
  guards(task: string): boolean {
    for (const g of this.byStep.values()) if (g.step.task === task) return true;
    return false;
  }

  /** Whether `step` waits for a check before it may be retried. */
  holds(step: PlanStep, tracker: PlanTracker): boolean {
    const g = this.byStep.get(step.key);
    return g !== undefined && g.baseline !== null && tracker.get(step).failures > g.checked;
  }

  /** The checks to make now: one per held step that is not being checked. */
  checkCalls(tracker: PlanTracker): Action[] {
    const out: Action[] = [];
    for (const g of this.byStep.values()) {
      const st = tracker.get(g.step);
      if (g.checking || st.done || st.inFlight || !this.holds(g.step, tracker)) continue;
      g.checking = true;
      out.push(this.listing([g], false, 'recheck'));
    }
    return out;
  }
}
