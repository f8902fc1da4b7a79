/**
 * Named, seeded random streams.
 *
 * A simulation owns one `RandomStreams` built from a root seed. Each consumer asks for its own
 * stream by name; the stream's generator is seeded from (root seed, name) alone, so adding a
 * consumer, or drawing more from one stream, never shifts another stream's draws.
 *
 * Generator: Baagøe's Alea exactly as seedrandom's `alea(key, { state: true })` seeds and draws it
 * (the tests hold the two to the same draws and states): `.double()` yields 53-bit uniforms in
 * [0, 1), and the state can be copied out as plain JSON and restored to continue the exact
 * sequence (replay forks need this). Streams are created lazily; a snapshot lists them in name
 * order so it is canonical.
 */

/** One stream's saved position: JSON-safe, opaque to callers. */
export type StreamState = {
  readonly c: number;
  readonly s0: number;
  readonly s1: number;
  readonly s2: number;
};

/** A uniform source. `double()` is in [0, 1) with 53 bits of randomness. */
export interface RandomStream {
  readonly name: string;
  double(): number;
  /** Uniform integer in [0, n); `n` must be a positive safe integer. */
  int(n: number): number;
  state(): StreamState;
}

/** The saved position of every stream created so far, keyed by name, in name order. */
export type StreamsSnapshot = {
  readonly rootSeed: string;
  readonly streams: ReadonlyArray<readonly [string, StreamState]>;
};

/**
 * One pass of Baagøe's Mash over `data`, from hash state `n`; returns the new state. A plain
 * function of numbers, not a closure over `n` (a captured number is boxed at every update), and
 * `Math.floor` where the original truncates with `>>> 0`: the same for the values that occur
 * (0 <= h < 2^32, since n < 2^33 throughout), and half the latency in this serial chain.
 */
function mash(n: number, data: string): number {
  for (let i = 0; i < data.length; i++) {
    n += data.charCodeAt(i);
    let h = 0.02519603282416938 * n;
    let whole = Math.floor(h);
    h -= whole;
    h *= whole;
    whole = Math.floor(h);
    h -= whole;
    n = whole + h * 0x100000000; // 2^32
  }
  return n;
}

/** What a Mash pass yields from its state: a fraction in [0, 1). */
function fraction(n: number): number {
  return (n >>> 0) * 2.3283064365386963e-10; // 2^-32
}

/**
 * Alea, seeded and drawn with seedrandom's arithmetic step for step, without its per-generator
 * closures: the world seeds one stream per call, so seeding cost shows. Every call's latency comes
 * from here, so the replay contract depends on it (the golden replays and a property test check it
 * against seedrandom).
 */
class Alea implements RandomStream {
  readonly name: string;
  private c: number;
  private s0: number;
  private s1: number;
  private s2: number;

  private constructor(name: string, c: number, s0: number, s1: number, s2: number) {
    this.name = name;
    this.c = c;
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
  }

  /**
   * The stream `name`, seeded from `prefix + name` as Alea seeds from a string: one running Mash hash over ' ', ' ',
   * ' ', then the seed three times, each pass giving a fraction of 2^32. `prefixMash` is
   * `mash(MASH_START, prefix)`, the first pass over the prefix, which every stream of one root
   * shares (passes two and three start from the whole seed's hash, so only the first can be shared).
   */
  static seeded(name: string, prefix: string, prefixMash: number): Alea {
    let s0 = SPACE_FRACTIONS[0];
    let s1 = SPACE_FRACTIONS[1];
    let s2 = SPACE_FRACTIONS[2];
    let n = mash(prefixMash, name);
    s0 -= fraction(n);
    if (s0 < 0) s0 += 1;
    n = mash(mash(n, prefix), name);
    s1 -= fraction(n);
    if (s1 < 0) s1 += 1;
    n = mash(mash(n, prefix), name);
    s2 -= fraction(n);
    if (s2 < 0) s2 += 1;
    return new Alea(name, 1, s0, s1, s2);
  }

  static restored(name: string, state: StreamState): Alea {
    return new Alea(name, state.c, state.s0, state.s1, state.s2);
  }

  /** A stream at the start of `seed` (what `seeded` gave for this name). */
  static fromSeed(name: string, seed: Seed): Alea {
    return new Alea(name, 1, seed[0], seed[1], seed[2]);
  }

  /** Where a freshly seeded stream starts (for `SeedMemo`). */
  seed(): Seed {
    return [this.s0, this.s1, this.s2];
  }

  private next(): number {
    const t = 2091639 * this.s0 + this.c * 2.3283064365386963e-10; // 2^-32
    this.s0 = this.s1;
    this.s1 = this.s2;
    return (this.s2 = t - (this.c = t | 0));
  }

  double(): number {
    return this.next() + ((this.next() * 0x200000) | 0) * 1.1102230246251565e-16; // 2^-53
  }

  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new RangeError(`stream ${this.name}: int(n) needs a positive safe integer n, got ${n}`);
    return Math.floor(this.double() * n);
  }

  state(): StreamState {
    return { c: this.c, s0: this.s0, s1: this.s1, s2: this.s2 };
  }
}

/** Mash's initial state, its state after ' ', ' ', ' ' (where the seed's passes start), and the fractions those three gave. */
const MASH_INIT = 0xefc8249d;
const [MASH_START, SPACE_FRACTIONS] = ((): [number, readonly [number, number, number]] => {
  const n1 = mash(MASH_INIT, ' ');
  const n2 = mash(n1, ' ');
  const n3 = mash(n2, ' ');
  return [n3, [fraction(n1), fraction(n2), fraction(n3)]];
})();

/** A freshly seeded Alea's state (c is 1): s0, s1, s2. */
type Seed = readonly [number, number, number];

/**
 * Seeds made before, by root seed and stream name, process-wide: a suite's episodes derive the same
 * stream names again and again (task and step ids recur across instances, and every agent runs an
 * instance on the same seeds: 1,870 distinct call keys among 22,105 derivations over the
 * 720-instance suite on seeds 1..3), and seeding (three Mash passes over the key) was the largest
 * single cost of a baseline's episode. A memo of a pure function of (root, name), so sharing it
 * changes no draw.
 *
 * Looked up by the name string as given: a name kept by its caller (a compiled plan's call keys)
 * has its hash cached by V8, while hashing a string just built costs about what a Map lookup saves
 * over seeding again. Bounded: at MAX_SEEDS entries (tables counted) everything is forgotten; a
 * RandomStreams still holding a table from before finds nothing in it (tables are emptied, and
 * only the current ones are added to) and takes the current one at its next seed.
 */
class SeedMemo {
  private readonly tables = new Map<string, Map<string, Seed>>();
  private entries = 0;

  /** Entries kept now, tables counted (at most MAX_SEEDS). */
  get size(): number {
    return this.entries;
  }

  /** `rootSeed`'s table, if it has one. */
  tableOf(rootSeed: string): Map<string, Seed> | undefined {
    return this.tables.get(rootSeed);
  }

  /** Keeps `seed` for (rootSeed, name), resetting first when full; returns the root's table. */
  add(rootSeed: string, name: string, seed: Seed): Map<string, Seed> {
    if (this.entries + 2 > MAX_SEEDS) {
      for (const table of this.tables.values()) table.clear();
      this.tables.clear();
      this.entries = 0;
    }
    let table = this.tables.get(rootSeed);
    if (table === undefined) {
      table = new Map();
      this.tables.set(rootSeed, table);
      this.entries++;
    }
    if (!table.has(name)) this.entries++;
    table.set(name, seed);
    return table;
  }
}

/** Seeds kept at most (with a root's table counting one): a few MB. */
export const MAX_SEEDS = 1 << 15;
const SEEDS = new SeedMemo();

/** How many seeds the process keeps now (tables counted): for tests of the bound. */
export function keptSeeds(): number {
  return SEEDS.size;
}

/** The key a stream's generator is seeded from is `streamPrefix(root) + name`. Part of the replay contract: never change it. */
function streamPrefix(rootSeed: string): string {
  return `tooltime/${rootSeed}/`;
}

/**
 * A root seed's named streams: each stream is seeded from (root seed, name) alone, so adding a
 * consumer or drawing more from one stream never shifts another's draws; `snapshot` and `restore`
 * save and continue the exact sequences.
 */
export class RandomStreams {
  readonly rootSeed: string;
  private readonly byName = new Map<string, Alea>();
  private readonly prefix: string;
  /** Mash's first pass over `prefix` (see `Alea.seeded`). */
  private readonly prefixMash: number;
  /** This root's table in SEEDS (null while it has none). */
  private seeds: Map<string, Seed> | null = null;

  /** `rootSeed` may be a number or string; `1` and `'1'` name the same root. */
  constructor(rootSeed: number | string) {
    if (typeof rootSeed === 'number' && !Number.isSafeInteger(rootSeed)) {
      throw new RangeError(`random seed must be a safe integer or a string, got ${rootSeed}`);
    }
    this.rootSeed = String(rootSeed);
    this.prefix = streamPrefix(this.rootSeed);
    this.prefixMash = mash(MASH_START, this.prefix);
  }

  /** The stream called `name`, created on first use from (root seed, name). */
  get(name: string): RandomStream {
    let stream = this.byName.get(name);
    if (stream === undefined) {
      stream = this.seeded(name);
      this.byName.set(name, stream);
    }
    return stream;
  }

  /**
   * A fresh stream seeded from (root seed, name) that is not kept or snapshotted: for draws keyed
   * by identity (say, the latency of one particular call), where the same name must always give
   * the same draws however many other draws were made before.
   */
  derive(name: string): RandomStream {
    return this.seeded(name);
  }

  /** `Alea.seeded(name, ...)`, from SEEDS when it was made before. */
  private seeded(name: string): Alea {
    this.seeds ??= SEEDS.tableOf(this.rootSeed) ?? null;
    const seed = this.seeds?.get(name);
    if (seed !== undefined) return Alea.fromSeed(name, seed);
    const stream = Alea.seeded(name, this.prefix, this.prefixMash);
    this.seeds = SEEDS.add(this.rootSeed, name, stream.seed());
    return stream;
  }

  /** Saved positions of all streams created so far, in name order. */
  snapshot(): StreamsSnapshot {
    const names = [...this.byName.keys()].sort();
    return {
      rootSeed: this.rootSeed,
      streams: names.map((n) => [n, this.byName.get(n)!.state()] as const),
    };
  }

  /** A new set of streams positioned exactly where `snapshot` was taken. */
  static restore(snapshot: StreamsSnapshot): RandomStreams {
    const streams = new RandomStreams(snapshot.rootSeed);
    for (const [name, state] of snapshot.streams)
      streams.byName.set(name, Alea.restored(name, state));
    return streams;
  }
}
