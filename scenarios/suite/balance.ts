/**
 * Balancing: the plan of slots (one per instance to generate) spread evenly over strata, and the
 * balanced choice of seed tasks.
 *
 * Strata: task count (2, 3) x mix (similar: one domain; cross: several). The count is split evenly
 * over the task counts (the first takes the remainder), and within a task count one third (rounded)
 * is similar-domain. Within a stratum:
 * - domain combinations are chosen greedily, each slot taking the candidate (a domain repeated for
 *   similar; a pair, or a triple of distinct domains, for cross) that minimises, in order: times the
 *   combination was used, the largest use count of a domain pair inside it, the sum of those pair
 *   counts, the sum of its domains' use counts; ties broken by a seeded shuffle of the candidates;
 * - slot j takes latency variant V[j % 5] and stress S[j % 4] (V, S seeded permutations of the 5
 *   variants and 4 stresses): every 20 consecutive slots cover the 20 pairs once;
 * - the structural operators (deepen, widen, stagger, followup: on or off) cycle through their 16
 *   subsets ordered as 8 shuffled complementary pairs (see shapeCycle).
 * Seed tasks are picked when a slot is filled: per domain, the least-used pattern among the
 * domain's unused seeds, then its least-used seed (counts over accepted instances; ties by the
 * slot's stream).
 */
import type { RandomStream, RandomStreams } from '../../engine/index.js';
import { SEED_PATTERNS, type SeedPattern, type SeedTask } from './domains.js';
import { shuffled, STRESSES, VARIANTS, type Catalog, type Stress, type Variant } from './model.js';

export type Mix = 'similar' | 'cross';

export interface Shape {
  readonly deepen: boolean;
  readonly widen: boolean;
  readonly stagger: boolean;
  readonly followup: boolean;
}

export interface Slot {
  /** Planning index: names the slot's random streams. */
  readonly index: number;
  readonly tasks: number;
  readonly mix: Mix;
  /** One domain slug per task (repeated for similar). */
  readonly domains: readonly string[];
  readonly variant: Variant;
  readonly stress: Stress;
  readonly shape: Shape;
}

export interface Stratum {
  readonly tasks: number;
  readonly mix: Mix;
  readonly size: number;
  /** Every domain combination this stratum may use. */
  readonly candidates: ReadonlyArray<readonly string[]>;
}

/** Domain combinations of a stratum over the sorted domain slugs. */
export function stratumCandidates(tasks: number, mix: Mix, domains: readonly string[]): string[][] {
  if (mix === 'similar') return domains.map((d) => Array.from({ length: tasks }, () => d));
  const out: string[][] = [];
  const n = domains.length;
  if (tasks === 2) {
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) out.push([domains[i]!, domains[j]!]);
  } else if (n >= 3) {
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++)
        for (let k = j + 1; k < n; k++) out.push([domains[i]!, domains[j]!, domains[k]!]);
  } else if (n === 2) {
    out.push([domains[0]!, domains[0]!, domains[1]!], [domains[0]!, domains[1]!, domains[1]!]);
  }
  return out;
}

/** The strata for `count` instances. */
export function planStrata(
  count: number,
  taskCounts: readonly number[],
  domains: readonly string[],
): Stratum[] {
  const strata: Stratum[] = [];
  taskCounts.forEach((tasks, i) => {
    const n = Math.floor(count / taskCounts.length) + (i < count % taskCounts.length ? 1 : 0);
    const crossOk = domains.length >= 2;
    const similar = crossOk ? Math.round(n / 3) : n;
    if (similar > 0)
      strata.push({
        tasks,
        mix: 'similar',
        size: similar,
        candidates: stratumCandidates(tasks, 'similar', domains),
      });
    if (n - similar > 0)
      strata.push({
        tasks,
        mix: 'cross',
        size: n - similar,
        candidates: stratumCandidates(tasks, 'cross', domains),
      });
  });
  return strata;
}

function pairKeys(combo: readonly string[]): string[] {
  const keys = new Set<string>();
  for (let i = 0; i < combo.length; i++) {
    for (let j = i + 1; j < combo.length; j++) {
      const [a, b] = [combo[i]!, combo[j]!].sort();
      if (a !== b) keys.add(`${a}+${b}`);
    }
  }
  return [...keys];
}

/** `size` combinations from `candidates`, balanced greedily (see the module comment). */
export function balancedCombos(
  candidates: ReadonlyArray<readonly string[]>,
  size: number,
  stream: RandomStream,
): string[][] {
  const order = shuffled(stream, candidates);
  const comboCount = new Map<string, number>();
  const pairCount = new Map<string, number>();
  const domainCount = new Map<string, number>();
  const out: string[][] = [];
  for (let k = 0; k < size; k++) {
    let best: readonly string[] | undefined;
    let bestKey: number[] = [];
    for (const combo of order) {
      const pairs = pairKeys(combo).map((p) => pairCount.get(p) ?? 0);
      const key = [
        comboCount.get(combo.join('+')) ?? 0,
        pairs.length === 0 ? 0 : Math.max(...pairs),
        pairs.reduce((a, b) => a + b, 0),
        combo.reduce((a, d) => a + (domainCount.get(d) ?? 0), 0),
      ];
      if (best === undefined || lexLess(key, bestKey)) [best, bestKey] = [combo, key];
    }
    if (best === undefined) break;
    out.push([...best]);
    comboCount.set(best.join('+'), (comboCount.get(best.join('+')) ?? 0) + 1);
    for (const p of pairKeys(best)) pairCount.set(p, (pairCount.get(p) ?? 0) + 1);
    for (const d of best) domainCount.set(d, (domainCount.get(d) ?? 0) + 1);
  }
  return out;
}

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

const SHAPES: Shape[] = Array.from({ length: 16 }, (_, m) => ({
  deepen: (m & 1) !== 0,
  widen: (m & 2) !== 0,
  stagger: (m & 4) !== 0,
  followup: (m & 8) !== 0,
}));

/**
 * The 16 operator subsets as 8 complementary pairs (a subset, then the subsets it leaves out), the
 * pairs and the order within each pair shuffled: every even-length prefix applies each operator to
 * exactly half its slots, and each 16 consecutive slots see every subset once.
 */
function shapeCycle(stream: RandomStream): Shape[] {
  const pairs = shuffled(
    stream,
    Array.from({ length: 8 }, (_, m) => [m, 15 - m] as const),
  );
  return pairs.flatMap(([a, b]) =>
    stream.int(2) === 0 ? [SHAPES[a]!, SHAPES[b]!] : [SHAPES[b]!, SHAPES[a]!],
  );
}

/** Every slot, in planning order (strata in order; within a stratum, slot order). */
export function planSlots(
  count: number,
  taskCounts: readonly number[],
  domains: readonly string[],
  streams: RandomStreams,
): { strata: Stratum[]; slots: Slot[] } {
  const strata = planStrata(count, taskCounts, domains);
  const slots: Slot[] = [];
  for (const st of strata) {
    const name = `plan/${st.tasks}/${st.mix}`;
    const combos = balancedCombos(st.candidates, st.size, streams.derive(`${name}/domains`));
    // 5 and 4 are coprime: slot j takes variants[j % 5] and stresses[j % 4], so every 20
    // consecutive slots see each (variant, stress) pair once, and any run of slots is balanced
    // on each of the two within one.
    const variants = shuffled(streams.derive(`${name}/variant`), VARIANTS);
    const stresses = shuffled(streams.derive(`${name}/stress`), STRESSES);
    const shapes = shapeCycle(streams.derive(`${name}/shape`));
    combos.forEach((combo, j) => {
      slots.push({
        index: slots.length,
        tasks: st.tasks,
        mix: st.mix,
        domains: combo,
        variant: variants[j % variants.length]!,
        stress: stresses[j % stresses.length]!,
        shape: shapes[j % shapes.length]!,
      });
    });
  }
  return { strata, slots };
}

/** Use counts over accepted instances, for balanced seed picks. */
export class SeedUsage {
  readonly patterns = new Map<SeedPattern, number>();
  readonly seeds = new Map<string, number>();

  record(seeds: readonly SeedTask[]): void {
    for (const s of seeds) {
      this.patterns.set(s.pattern, (this.patterns.get(s.pattern) ?? 0) + 1);
      this.seeds.set(s.task.id, (this.seeds.get(s.task.id) ?? 0) + 1);
    }
  }
}

/**
 * One distinct seed task per domain of `combo`. Balanced: the least-used pattern among the
 * domain's unused seeds, then the least-used seed of it; ties by a shuffle drawn from `stream`.
 * Not balanced (retries): a uniformly drawn unused seed of the domain.
 */
export function pickSeeds(
  catalog: Catalog,
  combo: readonly string[],
  usage: SeedUsage,
  balanced: boolean,
  stream: RandomStream,
): SeedTask[] | null {
  const chosen: SeedTask[] = [];
  for (const slug of combo) {
    const domain = catalog.domains.find((d) => d.slug === slug);
    if (domain === undefined) throw new Error(`no domain ${slug}`);
    const available = domain.seeds.filter((s) => !chosen.includes(s));
    if (available.length === 0) return null;
    if (!balanced) {
      chosen.push(shuffled(stream, available)[0]!);
      continue;
    }
    const patterns = shuffled(
      stream,
      SEED_PATTERNS.filter((p) => available.some((s) => s.pattern === p)),
    );
    const pattern = minBy(patterns, (p) => usage.patterns.get(p) ?? 0);
    const seeds = shuffled(
      stream,
      available.filter((s) => s.pattern === pattern),
    );
    chosen.push(minBy(seeds, (s) => usage.seeds.get(s.task.id) ?? 0));
  }
  return chosen;
}

/** The first item with the smallest key (stable). */
function minBy<T>(items: readonly T[], key: (item: T) => number): T {
  let best: T = items[0] as T;
  let bestKey = key(best);
  for (const item of items.slice(1)) {
    const k = key(item);
    if (k < bestKey) [best, bestKey] = [item, k];
  }
  return best;
}
