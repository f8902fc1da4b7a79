/**
 * The generation pipeline: plan balanced slots, fill each one by evolving seed tasks through the
 * operators, filter (valid, not a near-duplicate), and name the survivors `asynctool-sSEED-0001`, ...
 * (the seed in the id keeps suites of different seeds apart when they are run together).
 *
 * Deterministic for a seed: every draw comes from `RandomStreams(seed).derive(name)` with a name
 * per planning step or per (slot, attempt, operator), so one slot's draws never depend on how many
 * draws another slot made; loops run over arrays in a fixed order; there is no clock and no
 * Math.random.
 */
import { RandomStreams } from '../../engine/index.js';
import { SEED_PATTERNS, type SeedTask } from './domains.js';
import type { Scenario } from '../spec/schema.js';
import { pickSeeds, planSlots, SeedUsage, type Slot, type Stratum } from './balance.js';
import { compose } from './compose.js';
import { problemsOf, structureHash } from './filter.js';
import { formatJson, scenarioDocument } from './format.js';
import {
  allSteps,
  buildCatalog,
  meanMs,
  pick,
  thinkMeanMs,
  type Catalog,
  type Draft,
} from './model.js';
import {
  applyVariant,
  deepen,
  followup,
  injectFailures,
  limitConcurrency,
  stagger,
  widen,
} from './operators.js';

export const SUITE_NAME = 'asynctool';
export const SUITE_FORMAT = 'tooltime.suite/1';
/** Attempts per slot before it is left unfilled. */
export const MAX_ATTEMPTS = 60;
/** Attempts on the slot's planned domain combination before other combinations of its stratum are tried. */
export const COMBO_ATTEMPTS = 40;

export interface GenerateOptions {
  readonly seed: number;
  readonly count: number;
  /** Task counts to generate: [2], [3] or [2, 3] (default). */
  readonly tasks?: readonly number[];
  /** Domain slugs to draw from (default: all). */
  readonly domains?: readonly string[];
}

export interface GeneratedInstance {
  readonly id: string;
  readonly scenario: Scenario;
  /** The file's text: pretty JSON with a trailing newline. */
  readonly text: string;
  readonly hash: string;
}

export interface DropCounts {
  /** An operator the slot called for did not apply to the candidate. */
  inapplicable: number;
  /** The candidate had validation problems. */
  invalid: number;
  /** Its structure hash was already taken. */
  duplicate: number;
}

export interface GenerateResult {
  readonly seed: number;
  readonly count: number;
  readonly tasks: readonly number[];
  /** Sorted slugs of the domains drawn from. */
  readonly domains: readonly string[];
  readonly allDomains: boolean;
  readonly strata: readonly Stratum[];
  readonly instances: readonly GeneratedInstance[];
  readonly dropped: DropCounts;
  /** Slots left empty after MAX_ATTEMPTS candidates. */
  readonly unfilled: number;
}

/** The n-th instance of the suite generated with `seed`: `asynctool-s2024-0001`. */
export function instanceId(seed: number, n: number): string {
  return `${SUITE_NAME}-s${seed}-${String(n).padStart(4, '0')}`;
}

/** Runs the generator. Throws on bad options (unknown domain, bad counts). */
export function generate(
  options: GenerateOptions,
  catalog: Catalog = buildCatalog(),
): GenerateResult {
  const { seed, count } = options;
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  if (!Number.isSafeInteger(count) || count < 1)
    throw new RangeError(`count must be a positive integer, got ${count}`);
  const tasks = [...new Set(options.tasks ?? [2, 3])].sort((a, b) => a - b);
  if (tasks.length === 0 || tasks.some((t) => t !== 2 && t !== 3))
    throw new RangeError(`tasks must be 2, 3 or both, got ${tasks.join(',')}`);
  const known = catalog.domains.map((d) => d.slug).sort();
  const domains = options.domains === undefined ? known : [...new Set(options.domains)].sort();
  for (const d of domains)
    if (!known.includes(d))
      throw new RangeError(`unknown domain ${JSON.stringify(d)} (known: ${known.join(', ')})`);
  if (domains.length === 0) throw new RangeError('no domains to draw from');

  const streams = new RandomStreams(seed);
  const { strata, slots } = planSlots(count, tasks, domains, streams);
  // Fill slots in a seeded order so strata interleave in the ids.
  const order = shuffleSlots(slots, streams);
  const usage = new SeedUsage();
  const seen = new Set<string>();
  const dropped: DropCounts = { inapplicable: 0, invalid: 0, duplicate: 0 };
  const instances: GeneratedInstance[] = [];
  let unfilled = 0;
  for (const slot of order) {
    const made = fillSlot(
      catalog,
      slot,
      strata,
      usage,
      seen,
      dropped,
      streams,
      instanceId(seed, instances.length + 1),
    );
    if (made === null) unfilled++;
    else instances.push(made);
  }
  return {
    seed,
    count,
    tasks,
    domains,
    allDomains: options.domains === undefined || domains.length === known.length,
    strata,
    instances,
    dropped,
    unfilled,
  };
}

function shuffleSlots(slots: readonly Slot[], streams: RandomStreams): Slot[] {
  const stream = streams.derive('plan/order');
  const out = [...slots];
  for (let i = out.length - 1; i > 0; i--) {
    const j = stream.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function fillSlot(
  catalog: Catalog,
  slot: Slot,
  strata: readonly Stratum[],
  usage: SeedUsage,
  seen: Set<string>,
  dropped: DropCounts,
  streams: RandomStreams,
  id: string,
): GeneratedInstance | null {
  const stratum = strata.find((s) => s.tasks === slot.tasks && s.mix === slot.mix);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const st = (op: string) => streams.derive(`slot/${slot.index}/try/${attempt}/${op}`);
    const combo =
      attempt < COMBO_ATTEMPTS || stratum === undefined
        ? slot.domains
        : pick(st('combo'), stratum.candidates);
    const seeds = pickSeeds(catalog, combo, usage, attempt === 0, st('seeds'));
    if (seeds === null) {
      dropped.inapplicable++;
      continue;
    }
    const draft = evolve(catalog, slot, seeds, st);
    if (draft === null) {
      dropped.inapplicable++;
      continue;
    }
    const hash = structureHash(draft.scenario, draft.meta);
    if (seen.has(hash)) {
      dropped.duplicate++;
      continue;
    }
    const scenario = finalize(draft, id, slot);
    const doc = scenarioDocument(scenario);
    if (problemsOf(doc).length > 0) {
      dropped.invalid++;
      continue;
    }
    seen.add(hash);
    usage.record(seeds);
    return { id, scenario, text: formatJson(doc), hash };
  }
  return null;
}

/** compose, then the slot's operators in pipeline order; null when one does not apply. */
export function evolve(
  catalog: Catalog,
  slot: Pick<Slot, 'variant' | 'stress' | 'shape'>,
  seeds: readonly SeedTask[],
  st: (op: string) => ReturnType<RandomStreams['derive']>,
): Draft | null {
  let draft: Draft | null = compose(catalog, seeds, st('compose'));
  if (slot.shape.deepen) draft = deepen(draft, st('deepen'));
  if (draft !== null && slot.shape.widen) draft = widen(draft, st('widen'), catalog);
  if (draft !== null) draft = applyVariant(draft, slot.variant, st('latency'));
  if (draft !== null && slot.stress.includes('concurrency'))
    draft = limitConcurrency(draft, st('concurrency'));
  if (draft !== null && slot.stress.includes('failures'))
    draft = injectFailures(draft, st('failures'));
  if (draft !== null && slot.shape.stagger) draft = stagger(draft, st('stagger'));
  if (draft !== null && slot.shape.followup) draft = followup(draft, st('followup'));
  return draft;
}

/**
 * The instance: id, tags, description and limits. Limits: maxCalls 4N + 10 and maxDecisions
 * 8N + 20 for N expected steps; maxTimeMs ten times (last request + the serial sum of mean latency
 * plus mean think time over all steps), rounded up to a whole minute, at least 5 minutes.
 */
export function finalize(draft: Draft, id: string, slot?: Pick<Slot, 'stress'>): Scenario {
  const s = structuredClone(draft.scenario);
  const meta = draft.meta;
  const steps = allSteps(s);
  const n = steps.length;
  const think = thinkMeanMs(s);
  const latency = new Map(s.tools.map((t) => [t.name, meanMs(t.latency)]));
  const serial = steps.reduce((a, x) => a + (latency.get(x.step.tool) ?? 0) + think, 0);
  const lastRequest = Math.max(
    0,
    ...s.tasks.map((t) => t.arrivalMs),
    ...s.messages.map((m) => m.atMs),
  );
  s.limits = {
    maxTimeMs: Math.max(300_000, Math.ceil(((lastRequest + serial) * 10) / 60_000) * 60_000),
    maxDecisions: 8 * n + 20,
    maxCalls: 4 * n + 10,
  };
  s.id = id;
  const domains = [...new Set(meta.tasks.map((o) => o.domain))].sort();
  const patterns = meta.tasks
    .map((o) => o.pattern)
    .sort((a, b) => SEED_PATTERNS.indexOf(a) - SEED_PATTERNS.indexOf(b));
  const stress =
    slot?.stress ??
    (['concurrency', 'failures'].filter((op) => meta.operators.includes(op as never)).join('+') ||
      'none');
  s.tags = {
    domains: domains.join('+'),
    mix: domains.length === 1 ? 'similar' : 'cross',
    tasks: String(s.tasks.length),
    patterns: patterns.join('+'),
    seeds: meta.tasks.map((o) => o.seed).join('+'),
    variant: meta.variant,
    stress,
    operators: meta.operators.join(','),
    steps: String(n),
  };
  const size =
    s.tasks.length === 2 ? 'Dual' : s.tasks.length === 3 ? 'Tri' : `${s.tasks.length}-task`;
  s.description = `${size} AsyncTool instance: ${meta.notes.join('; ')}.`;
  return s;
}
