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
    const prng = seedrandom.alea(streamKey(this.rootSeed, name), { state: true }) as unknown as AleaPrng;
    return new AleaStream(name, prng);
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
