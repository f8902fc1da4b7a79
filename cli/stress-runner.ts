/**
 * The stress runner: property-based testing of one scheduling policy over random scenarios.
 *
 * Each case is a random scenario (scenarios/stress/arbitrary.ts) and an episode seed. The policy
 * runs on it; the selected invariants (scenarios/stress/checks.ts) are checked on the episode;
 * `determinism` runs it a second time and compares replay bytes. fast-check drives generation and,
 * on a failure, shrinks the case to a minimal one (fewest tasks, steps, messages, smallest
 * latencies); the report carries that case, its episode, its replay bytes and the fast-check seed
 * and path that regenerate it.
 */
import fc from 'fast-check';
import type { EpisodeEvent } from '../scenarios/world/events.js';
import type { Agent, Delivery, Mode } from '../scenarios/protocol.js';
import type { Scenario } from '../scenarios/spec/schema.js';
import {
  caseSize,
  caseToScenario,
  stressCaseArb,
  type StressCase,
  type StressCaseOptions,
} from '../scenarios/stress/arbitrary.js';
import {
  CHECK_NAMES,
  runChecks,
  type CheckName,
  type Violation,
} from '../scenarios/stress/checks.js';
import { runEpisode } from '../scenarios/world/world.js';
import { assertInvariant } from '../engine/assert.js';

export interface StressOptions {
  readonly agent: string;
  readonly makeAgent: (spec: string) => Agent;
  readonly runs: number;
  readonly seed: number;
  /** fast-check's replay path of a counterexample (with `seed`, replays it in one run). */
  readonly path?: string;
  readonly checks: readonly CheckName[];
  readonly efficiencyFactor: number;
  readonly starvationDecisions: number;
  readonly timeLimitMs: number | null;
  readonly mode: Mode;
  readonly delivery: Delivery;
  readonly caseOptions?: StressCaseOptions;
  /**
   * Evaluates cases elsewhere (worker threads), `batch` a call, `inFlight` calls at once: see
   * runStress. Not used with `path` or `timeLimitMs`.
   */
  readonly spread?: StressSpread;
  /** Replay bytes of an episode: the recorded form `determinism` compares and a failure saves. */
  readonly encode: (
    scenario: Scenario,
    agent: string,
    seed: number,
    mode: Mode,
    delivery: Delivery,
    events: readonly EpisodeEvent[],
  ) => Uint8Array;
}

export interface CheckTally {
  cases: number;
  events: number;
}

/** One case's verdict from elsewhere: passed or not, and what it counted (evaluateCase's tally). */
export interface CaseOutcome {
  readonly pass: boolean;
  readonly tally: Readonly<Record<CheckName, CheckTally>>;
}

/** A case as fast-check generates it: the scenario's recipe and the episode seed. */
export type StressInput = readonly [StressCase, number];

export interface StressSpread {
  readonly batch: number;
  readonly inFlight: number;
  /** Each case's outcome, in order: evaluateCase's on this thread, whatever thread runs it. */
  readonly run: (cases: readonly StressInput[]) => Promise<readonly CaseOutcome[]>;
}

/** An empty tally, one entry per check. */
export function emptyTally(): Record<CheckName, CheckTally> {
  return Object.fromEntries(CHECK_NAMES.map((n) => [n, { cases: 0, events: 0 }])) as Record<
    CheckName,
    CheckTally
  >;
}

export interface StressFailure {
  readonly violation: Violation;
  readonly stressCase: StressCase;
  readonly scenario: Scenario;
  readonly episodeSeed: number;
  readonly events: readonly EpisodeEvent[];
  readonly replay: Uint8Array;
  readonly fcSeed: number;
  readonly fcPath: string;
  readonly shrinks: number;
  readonly size: ReturnType<typeof caseSize>;
}

export interface StressReport {
  readonly agent: string;
  /**
   * Cases this run generated: on a failure, up to and including the first failing one (fast-check's
   * `numRuns`; shrinking's re-runs are not cases, nor, with `path`, the runs before it).
   */
  readonly cases: number;
  readonly interrupted: boolean;
  readonly tally: Readonly<Record<CheckName, CheckTally>>;
  readonly failure: StressFailure | null;
}

interface Evaluation {
  readonly violation: Violation | null;
  readonly scenario: Scenario;
  readonly events: readonly EpisodeEvent[];
  readonly replay: Uint8Array;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Runs one case and checks it; counts what was checked into `tally`. */
export async function evaluateCase(
  options: StressOptions,
  stressCase: StressCase,
  episodeSeed: number,
  tally?: Record<CheckName, CheckTally>,
): Promise<Evaluation> {
  const scenario = caseToScenario(stressCase);
  const world = { seed: episodeSeed, mode: options.mode, delivery: options.delivery };
  const agent = options.makeAgent(options.agent);
  const episode = await runEpisode(scenario, agent, world);
  const replay = options.encode(
    scenario,
    agent.spec,
    episodeSeed,
    options.mode,
    options.delivery,
    episode.events,
  );
  const single = options.checks.filter((c) => c !== 'determinism');
  const count = (names: readonly CheckName[]) => {
    if (tally === undefined) return;
    for (const n of names) {
      tally[n].cases++;
      tally[n].events += episode.events.length;
    }
  };
  // Checks run in the order given; each one that passes is counted.
  for (const [i, name] of single.entries()) {
    const violation = runChecks(
      { scenario, events: episode.events, agentCap: agent.maxInFlight ?? Infinity },
      [name],
      options,
    );
    if (violation !== null) {
      count(single.slice(0, i));
      return { violation, scenario, events: episode.events, replay };
    }
  }
  count(single);
  if (options.checks.includes('determinism')) {
    const again = await runEpisode(scenario, options.makeAgent(options.agent), world);
    const replayAgain = options.encode(
      scenario,
      agent.spec,
      episodeSeed,
      options.mode,
      options.delivery,
      again.events,
    );
    if (!bytesEqual(replay, replayAgain)) {
      const at = again.events.findIndex(
        (e, i) => JSON.stringify(e) !== JSON.stringify(episode.events[i]),
      );
      const index = at < 0 ? Math.min(again.events.length, episode.events.length) : at;
      return {
        violation: {
          check: 'determinism',
          message: `a second run of the same case diverged at event ${index}`,
          eventIndex: index,
        },
        scenario,
        events: episode.events,
        replay,
      };
    }
    count(['determinism']);
  }
  return { violation: null, scenario, events: episode.events, replay };
}

/**
 * Runs the property, shrinks a failure, and reports. With `spread`, the cases fast-check will try
 * are generated first (a pass whose predicate only records them: generation does not depend on
 * outcomes until one fails), evaluated on workers in batches up to the first failure, and the real
 * run then takes those outcomes in order (each checked to be the very case) and evaluates only
 * shrinking's candidates here: fast-check sees the same outcomes in the same order, so it finds
 * and shrinks the same failure, with the same seed and path, as on this thread.
 */
export async function runStress(options: StressOptions): Promise<StressReport> {
  const tally = emptyTally();
  const known =
    options.spread === undefined || options.path !== undefined || options.timeLimitMs !== null
      ? []
      : await outcomesAhead(options, options.spread);
  let next = 0;
  const property = fc.asyncProperty(
    stressCaseArb(options.caseOptions),
    fc.nat(1_000_000),
    async (stressCase, episodeSeed) => {
      const ahead = known[next];
      // Runs before the first failure come in generation order; shrinking's come after.
      if (ahead !== undefined) {
        next++;
        assertInvariant(
          ahead.key === JSON.stringify([stressCase, episodeSeed]),
          'stress',
          'the run tries the cases generated ahead, in order',
        );
        for (const n of CHECK_NAMES) {
          tally[n].cases += ahead.outcome.tally[n].cases;
          tally[n].events += ahead.outcome.tally[n].events;
        }
        if (!ahead.outcome.pass) known.length = 0;
        return ahead.outcome.pass;
      }
      const result = await evaluateCase(options, stressCase, episodeSeed, tally);
      return result.violation === null;
    },
  );
  const details = await fc.check(property, {
    numRuns: options.runs,
    seed: options.seed,
    ...(options.path === undefined ? {} : { path: options.path, endOnFailure: true }),
    ...(options.timeLimitMs === null
      ? {}
      : { interruptAfterTimeLimit: options.timeLimitMs, markInterruptAsFailure: false }),
  });
  const cases = details.numRuns;
  assertInvariant(
    known.length === 0 || next === known.length,
    'stress',
    'every case ahead is tried',
  );
  if (!details.failed || details.counterexample === null) {
    return { agent: options.agent, cases, interrupted: details.interrupted, tally, failure: null };
  }
  const [stressCase, episodeSeed] = details.counterexample;
  const evaluation = await evaluateCase(options, stressCase, episodeSeed);
  if (evaluation.violation === null)
    throw new Error(
      'stress: the shrunk counterexample passed when run again (a nondeterministic policy?)',
    );
  return {
    agent: options.agent,
    cases,
    interrupted: details.interrupted,
    tally,
    failure: {
      violation: evaluation.violation,
      stressCase,
      scenario: evaluation.scenario,
      episodeSeed,
      events: evaluation.events,
      replay: evaluation.replay,
      fcSeed: details.seed,
      fcPath: details.counterexamplePath ?? '',
      shrinks: details.numShrinks,
      size: caseSize(stressCase),
    },
  };
}

/**
 * The outcomes of the cases the run will try, up to and including the first failure, evaluated by
 * `spread` (batches in order, `inFlight` at once; none starts past a failure found).
 */
async function outcomesAhead(
  options: StressOptions,
  spread: StressSpread,
): Promise<Array<{ readonly key: string; readonly outcome: CaseOutcome }>> {
  const inputs: StressInput[] = [];
  await fc.check(
    fc.asyncProperty(stressCaseArb(options.caseOptions), fc.nat(1_000_000), async (c, s) => {
      inputs.push([c, s]);
      return true;
    }),
    { numRuns: options.runs, seed: options.seed },
  );
  const outcomes: Array<CaseOutcome | undefined> = new Array(inputs.length);
  let failedAt = Infinity;
  let start = 0;
  const loop = async () => {
    while (start < inputs.length && start < failedAt) {
      const from = start;
      const batch = inputs.slice(from, from + spread.batch);
      start += batch.length;
      const got = await spread.run(batch);
      assertInvariant(got.length === batch.length, 'stress', 'one outcome per case');
      got.forEach((outcome, k) => {
        outcomes[from + k] = outcome;
        if (!outcome.pass) failedAt = Math.min(failedAt, from + k);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, spread.inFlight) }, loop));
  const end = Math.min(inputs.length, failedAt + 1);
  return inputs.slice(0, end).map((input, i) => ({
    key: JSON.stringify(input),
    outcome: outcomes[i]!,
  }));
}
