/**
 * Named, seeded random streams.
 *
 * A simulation owns one `RandomStreams` built from a root seed. Each consumer asks for its own
 * stream by name; the stream's generator is seeded from (root seed, name) alone, so adding a
 * consumer, or drawing more from one stream, never shifts another stream's draws.
 *
 * Generator: seedrandom's Alea, whose `.double()` yields 53-bit uniforms in [0, 1) and whose
 * state can be copied out as plain JSON and restored to continue the exact sequence (replay forks
 * need this). Streams are created lazily; a snapshot lists them in name order so it is canonical.
 */
import seedrandom from 'seedrandom';

/** One stream's saved position: JSON-safe, opaque to callers. */
export type StreamState = { readonly c: number; readonly s0: number; readonly s1: number; readonly s2: number };

/** A uniform source. `double()` is in [0, 1) with 53 bits of randomness. */
export interface RandomStream {
  readonly name: string;
  double(): number;
  /** Uniform integer in [0, n); `n` must be a positive safe integer. */
  int(n: number): number;
  state(): StreamState;
}

/** The saved position of every stream created so far, keyed by name, in name order. */
export type StreamsSnapshot = { readonly rootSeed: string; readonly streams: ReadonlyArray<readonly [string, StreamState]> };

type AleaPrng = seedrandom.StatefulPRNG<StreamState>;

class AleaStream implements RandomStream {
  readonly name: string;
  private readonly prng: AleaPrng;

  constructor(name: string, prng: AleaPrng) {
    this.name = name;
    this.prng = prng;
  }

  double(): number {
    return this.prng.double();
  }

  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`stream ${this.name}: int(n) needs a positive safe integer n, got ${n}`);
    return Math.floor(this.prng.double() * n);
  }

  state(): StreamState {
    return this.prng.state();
  }
}

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
 * Alea exactly as seedrandom's `alea(seed, { state: true })` seeds and draws it (the same
 * arithmetic, step for step), without its per-generator closures: the world derives one stream per
 * call, so seeding cost shows. `double()`, `int()` and `state()` agree with AleaStream over the
 * same seed; the replay contract depends on it (every call's latency comes from here, so the
 * golden replays check it).
 */
class KeyedAlea implements RandomStream {
  readonly name: string;
  private c = 1;
  private s0: number;
  private s1: number;
  private s2: number;

  constructor(name: string, seed: string) {
    this.name = name;
    // Baagøe's Mash: one running hash `n` over ' ', ' ', ' ', then the seed three times; each pass
    // gives a fraction of 2^32.
    let n = 0xefc8249d;
    n = mash(n, ' ');
    this.s0 = fraction(n);
    n = mash(n, ' ');
    this.s1 = fraction(n);
    n = mash(n, ' ');
    this.s2 = fraction(n);
    n = mash(n, seed);
    this.s0 -= fraction(n);
    if (this.s0 < 0) this.s0 += 1;
    n = mash(n, seed);
    this.s1 -= fraction(n);
    if (this.s1 < 0) this.s1 += 1;
    n = mash(n, seed);
    this.s2 -= fraction(n);
    if (this.s2 < 0) this.s2 += 1;
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
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`stream ${this.name}: int(n) needs a positive safe integer n, got ${n}`);
    return Math.floor(this.double() * n);
  }

  state(): StreamState {
    return { c: this.c, s0: this.s0, s1: this.s1, s2: this.s2 };
  }
}

/** The key a stream's generator is seeded from. Part of the replay contract: never change it. */
function streamKey(rootSeed: string, name: string): string {
  return `tooltime/${rootSeed}/${name}`;
}

export class RandomStreams {
  readonly rootSeed: string;
  private readonly byName = new Map<string, AleaStream>();

  /** `rootSeed` may be a number or string; `1` and `'1'` name the same root. */
  constructor(rootSeed: number | string) {
    if (typeof rootSeed === 'number' && !Number.isSafeInteger(rootSeed)) {
      throw new RangeError(`random seed must be a safe integer or a string, got ${rootSeed}`);
    }
    this.rootSeed = String(rootSeed);
  }

  /** The stream called `name`, created on first use from (root seed, name). */
  get(name: string): RandomStream {
    let stream = this.byName.get(name);
    if (stream === undefined) {
      const prng = seedrandom.alea(streamKey(this.rootSeed, name), { state: true }) as unknown as AleaPrng;
      stream = new AleaStream(name, prng);
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
    return new KeyedAlea(name, streamKey(this.rootSeed, name));
  }

  /** Saved positions of all streams created so far, in name order. */
  snapshot(): StreamsSnapshot {
    const names = [...this.byName.keys()].sort();
    return { rootSeed: this.rootSeed, streams: names.map((n) => [n, this.byName.get(n)!.state()] as const) };
  }

  /** A new set of streams positioned exactly where `snapshot` was taken. */
  static restore(snapshot: StreamsSnapshot): RandomStreams {
    const streams = new RandomStreams(snapshot.rootSeed);
    for (const [name, state] of snapshot.streams) {
      const prng = seedrandom.alea('', { state }) as unknown as AleaPrng;
      streams.byName.set(name, new AleaStream(name, prng));
    }
    return streams;
  }
}
