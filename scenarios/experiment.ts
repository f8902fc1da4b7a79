/**
 * An experiment: every agent on every instance with every seed, scored against the oracle's bound
 * and a reference agent's makespan, and summarised per agent.
 *
 * Episodes run one after another in a fixed order (instance, seed, agent), so results and any
 * recordings come out identical run to run. Agents are made by a factory the caller passes in
 * (the CLI passes the agent registry), which keeps this layer free of any agent implementation.
 * Agents that call out (a model) may run several episodes at once (`concurrency`): each episode is
 * still deterministic, and results are reported in the fixed order whatever finishes first.
 */
import { assertInvariant } from '../engine/assert.js';
import { canonicalScenario } from './spec/canonical-scenario.js';
import type { DistributionSpec } from '../engine/index.js';
import type { EpisodeEvent } from './world/events.js';
import { computeOracle } from './scoring/oracle.js';
import type { Agent, Delivery, Mode } from './protocol.js';
import type { Scenario } from './spec/schema.js';
import {
  aggregate,
  scoreEpisode,
  type EpisodeScore,
  type ScoreReference,
  type SuiteSummary,
} from './scoring/index.js';
import { runEpisode, type Episode } from './world/world.js';

/**
 * A scenario to run and the file it came from (reported with each episode); `mode` and `delivery`
 * override the experiment's for this instance (an ablation runs the same scenario in several).
 */
export interface ExperimentInstance {
  readonly file: string;
  readonly scenario: Scenario;
  readonly mode?: Mode;
  readonly delivery?: Delivery;
}

/** Names one episode of an experiment: instance id, agent spec and seed. */
export interface EpisodeKey {
  readonly instance: string;
  readonly agent: string;
  readonly seed: number;
}

/**
 * What an experiment runs: every agent spec on every instance with every seed, in one world
 * (mode, delivery, think time). `makeAgent` makes a fresh agent per episode (`createAgent` fits).
 * Optional: the reference agent for speedups, episodes at once, a recorder per episode, a callback
 * per finished episode, and a usage reader for model agents.
 */
export interface ExperimentOptions {
  readonly instances: readonly ExperimentInstance[];
  readonly agents: readonly string[];
  readonly seeds: readonly number[];
  readonly mode: Mode;
  readonly delivery: Delivery;
  readonly thinkTime?: DistributionSpec;
  readonly makeAgent: (spec: string) => Agent;
  /** The agent whose makespan `speedupVsSequential` divides; default `sequential`. */
  readonly referenceAgent?: string;
  /** Episodes in flight at once (useful only for agents that await a network); default 1. */
  readonly concurrency?: number;
  /** A per-episode event sink (a replay recorder), or null; `world` is the episode's. */
  readonly recorder?: (
    key: EpisodeKey,
    scenario: Scenario,
    world: { readonly mode: Mode; readonly delivery: Delivery },
  ) => EpisodeRecorder | null;
  /** Called once per finished episode, in the fixed order. */
  readonly onEpisode?: (record: EpisodeRecord) => void;
  /**
   * Called once per finished episode as soon as it finishes (with `concurrency` above 1, not
   * necessarily in the fixed order): its recorder has been finished. A throw stops the run.
   */
  readonly onComplete?: (record: EpisodeRecord) => void;
  /**
   * An episode already run (a resumed run's kept record), returned as its result without running
   * it again; null runs it. Keyed by the agent spec as given.
   */
  readonly done?: (key: EpisodeKey) => EpisodeRecord | null;
  /**
   * Asked before each episode starts: true starts no more (episodes in flight finish). The result
   * then holds the finished episodes only, and says `stopped`.
   */
  readonly stop?: () => boolean;
  /** What an episode's agent consumed (a model's tokens and cost), from its events; null for none. */
  readonly usageOf?: (events: readonly EpisodeEvent[]) => EpisodeUsage | null;
  /**
   * Runs the episodes of the agents it `takes` somewhere else (worker threads), `batch(left)`
   * consecutive episodes a call (`left`: those not sent yet, this call's included), `inFlight` calls
   * at once; it must give the records this thread's runner would (episodeRunner), in the order
   * asked, and do its own recording (`recorder` and `usageOf` are not used for them). Kept episodes
   * (`done`) are not sent.
   */
  readonly elsewhere?: {
    readonly takes: (agent: string) => boolean;
    readonly batch: (left: number) => number;
    readonly inFlight: number;
    readonly run: (episodes: readonly EpisodeKey[]) => Promise<readonly EpisodeRecord[]>;
  };
}

/** Tokens and cost (USD; null without a price). */
export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number | null;
}

/** What a model agent consumed in one episode (computed from its decision notes). */
export interface EpisodeUsage extends TokenUsage {
  readonly requests: number;
  /** Failed attempts that were retried. */
  readonly retries: number;
  /** Turns whose tokens were estimated (the server reported none). */
  readonly estimatedTurns: number;
  /** Sum of the request latencies the notes record, ms (under think time `wall`); else null. */
  readonly latencyMs: number | null;
  /** Defects of the model's replies, by kind (invalid_json, unknown_tool, no_tool_call...). */
  readonly issues: Readonly<Record<string, number>>;
  /** Each turn's tokens and cost split equally among the tasks open when it started. */
  readonly perTask: Readonly<Record<string, TokenUsage>>;
  /** Turns with no open task. */
  readonly unattributed: TokenUsage;
  /** Why the episode ended `errored`, else null. */
  readonly error: string | null;
}

/**
 * Receives one episode's events as they happen (`onEvent`), then `finish` with the episode; `abort`
 * when the episode threw, keeping what was recorded.
 */
export interface EpisodeRecorder {
  readonly onEvent: (event: EpisodeEvent) => void;
  finish(episode: Episode): void;
  /** The episode failed (threw): keep what was recorded, as it is. */
  abort?(): void;
}

/**
 * One finished episode of an experiment: which (instance, agent, seed, world), how it ended, its
 * makespan and score, and a model agent's usage.
 */
export interface EpisodeRecord {
  readonly instance: string;
  readonly file: string;
  readonly agent: string;
  readonly seed: number;
  readonly mode: Mode;
  readonly delivery: Delivery;
  readonly endReason: Episode['endReason'];
  readonly makespanUs: number;
  readonly score: EpisodeScore;
  /** Present when `usageOf` gave one. */
  readonly usage?: EpisodeUsage;
}

/** One agent's summary over every episode it ran in an experiment. */
export interface AgentSummary {
  readonly agent: string;
  readonly summary: SuiteSummary;
}

/**
 * Every episode record in the fixed order (instance, seed, agent) and one summary per agent, in
 * the order agents were given.
 */
export interface ExperimentResult {
  readonly episodes: readonly EpisodeRecord[];
  readonly summaries: readonly AgentSummary[];
  /** `stop` stopped it before every episode ran. */
  readonly stopped?: boolean;
}

/** The agent whose makespan a run's speedup divides, unless the experiment names another. */
export const REFERENCE_AGENT = 'sequential';

/**
 * What an episode is scored against, from its scenario, seed and think-time override alone (so a
 * replay's header is enough to recompute it): the oracle's lower bound, and the makespan of the
 * reference agent (`sequential`) run in **sync** mode. The reference blocks on each call, so its
 * makespan does not depend on the run's delivery nor on any poll interval of its own: the same
 * reference serves push and poll runs, and both modes.
 */
export async function computeReference(
  scenario: Scenario,
  seed: number,
  thinkTime: DistributionSpec | null,
  makeReference: () => Agent,
): Promise<Required<ScoreReference>> {
  const think = thinkTime === null ? {} : { thinkTime };
  const oracle = await computeOracle(scenario, { seed, ...think });
  const sequential = await runEpisode(scenario, makeReference(), {
    seed,
    mode: 'sync',
    delivery: 'push',
    ...think,
  });
  return {
    boundUs: oracle.boundUs,
    sequentialMakespanUs: sequential.endReason === 'completed' ? sequential.makespanUs : null,
  };
}

/**
 * Runs every agent on every instance with every seed, scores each episode against the oracle's
 * bound and the reference agent's makespan, and summarises per agent. Results (and recordings) are
 * identical run to run whatever `concurrency` is; the first episode that throws rejects it.
 */
export async function runExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  const jobs: Array<{ instance: ExperimentInstance; seed: number; agent: string }> = [];
  // Every episode runs on its scenario's canonical form, the one its replay records, so that a
  // run and its replay's re-run show an agent the same objects (keys in the same order).
  const instances = options.instances.map((i) => ({
    ...i,
    scenario: canonicalScenario(i.scenario),
  }));
  for (const instance of instances)
    for (const seed of options.seeds)
      for (const agent of options.agents) jobs.push({ instance, seed, agent });

  const run = episodeRunner(options);
  const keyOf = (job: (typeof jobs)[number]): EpisodeKey => ({
    instance: job.instance.scenario.id,
    agent: job.agent,
    seed: job.seed,
  });
  const kept = jobs.map((job) => options.done?.(keyOf(job)) ?? null);
  const local: Lane<(typeof jobs)[number], EpisodeRecord> = {
    indices: [],
    width: Math.max(1, options.concurrency ?? 1),
    size: () => 1,
    work: async ([job], [index]) => [
      kept[index!] ?? (await run(job!.instance, job!.seed, job!.agent)),
    ],
  };
  const lanes = [local];
  const elsewhere = options.elsewhere;
  if (elsewhere === undefined) local.indices = jobs.map((_, i) => i);
  else {
    const remote: Lane<(typeof jobs)[number], EpisodeRecord> = {
      indices: [],
      width: Math.max(1, elsewhere.inFlight),
      size: (left) => Math.max(1, elsewhere.batch(left)),
      work: (batch) => elsewhere.run(batch.map(keyOf)),
    };
    // A kept episode is answered here at once; the rest of an agent `elsewhere` takes go there.
    jobs.forEach((job, i) => {
      (kept[i] === null && elsewhere.takes(job.agent) ? remote : local).indices.push(i);
    });
    lanes.push(remote);
  }
  const ran = await runInOrder(jobs, lanes, options.onEpisode, options.onComplete, options.stop);
  const records = ran.filter((r): r is EpisodeRecord => r !== undefined);
  const agentsInOrder = [...new Set(records.map((r) => r.agent))];
  const summaries = agentsInOrder.map((agent) => ({
    agent,
    summary: aggregate(
      records
        .filter((r) => r.agent === agent)
        .map((r) => ({ instance: r.instance, seed: r.seed, score: r.score })),
    ),
  }));
  return {
    episodes: records,
    summaries,
    ...(records.length < jobs.length ? { stopped: true } : {}),
  };
}

/** What `episodeRunner` needs: the world, the agents' maker, and the optional recorder and usage reader. */
export type EpisodeRunnerOptions = Pick<
  ExperimentOptions,
  'mode' | 'delivery' | 'thinkTime' | 'makeAgent' | 'referenceAgent' | 'recorder' | 'usageOf'
>;

/**
 * Runs and scores one episode, computing each (instance, seed)'s reference once: the one code path
 * of every episode, whether this thread runs it (runExperiment) or a worker does (`elsewhere`).
 * `instance.scenario` must be canonical (canonicalScenario).
 */
export function episodeRunner(
  options: EpisodeRunnerOptions,
): (instance: ExperimentInstance, seed: number, agent: string) => Promise<EpisodeRecord> {
  const referenceAgent = options.referenceAgent ?? REFERENCE_AGENT;
  const world = {
    mode: options.mode,
    delivery: options.delivery,
    ...(options.thinkTime === undefined ? {} : { thinkTime: options.thinkTime }),
  };
  // Oracle bound and reference makespan, once per (instance, seed).
  const references = new Map<string, Promise<ScoreReference>>();
  const referenceFor = (instance: ExperimentInstance, seed: number) => {
    const key = `${instance.scenario.id}\u0000${seed}`;
    let ref = references.get(key);
    if (ref === undefined) {
      ref = computeReference(instance.scenario, seed, options.thinkTime ?? null, () =>
        options.makeAgent(referenceAgent),
      );
      references.set(key, ref);
    }
    return ref;
  };

  return async (instance, seed, agent) => {
    const made = options.makeAgent(agent);
    const own = {
      ...world,
      ...(instance.mode === undefined ? {} : { mode: instance.mode }),
      ...(instance.delivery === undefined ? {} : { delivery: instance.delivery }),
    };
    const recorder =
      options.recorder?.(
        { instance: instance.scenario.id, agent: made.spec, seed },
        instance.scenario,
        own,
      ) ?? null;
    let episode: Episode;
    try {
      episode = await runEpisode(instance.scenario, made, {
        seed,
        ...own,
        ...(recorder === null ? {} : { onEvent: recorder.onEvent }),
      });
    } catch (error) {
      recorder?.abort?.();
      throw error;
    }
    recorder?.finish(episode);
    const reference = await referenceFor(instance, seed);
    const score = scoreEpisode(instance.scenario, episode.events, reference);
    const usage = options.usageOf?.(episode.events) ?? null;
    return {
      instance: instance.scenario.id,
      file: instance.file,
      agent: made.spec,
      seed,
      mode: episode.mode,
      delivery: episode.delivery,
      endReason: episode.endReason,
      makespanUs: episode.makespanUs,
      score,
      ...(usage === null ? {} : { usage }),
    };
  };
}

/**
 * Items of one kind of work: their indices (in input order), how many run at once (`width`), and
 * how many go to one call of `work` (consecutive ones; `size(left)` of the `left` not yet sent, at
 * least 1), which gives one result per item.
 */
interface Lane<T, R> {
  indices: number[];
  readonly width: number;
  readonly size: (left: number) => number;
  readonly work: (items: T[], indices: readonly number[]) => Promise<readonly R[]>;
}

/**
 * Runs `items` by lanes (each item in one lane; lanes run side by side); returns results and
 * reports them to `onResult` in input order, and to `onDone` in the order they finish. Once `stop`
 * says so, no work starts: items left have no result (undefined).
 */
async function runInOrder<T, R>(
  items: readonly T[],
  lanes: ReadonlyArray<Lane<T, R>>,
  onResult?: (result: R) => void,
  onDone?: (result: R) => void,
  stop?: () => boolean,
): Promise<Array<R | undefined>> {
  const results: Array<R | undefined> = new Array(items.length);
  const done: boolean[] = new Array(items.length).fill(false);
  let reported = 0;
  const report = () => {
    while (reported < items.length && done[reported] === true) {
      onResult?.(results[reported] as R);
      reported++;
    }
  };
  const loop = async (lane: Lane<T, R>, state: { next: number }) => {
    while (state.next < lane.indices.length && stop?.() !== true) {
      const left = lane.indices.length - state.next;
      const size = lane.size(left);
      assertInvariant(Number.isSafeInteger(size) && size >= 1, 'experiment', 'a batch has items');
      const batch = lane.indices.slice(state.next, state.next + size);
      state.next += batch.length;
      const out = await lane.work(
        batch.map((i) => items[i]!),
        batch,
      );
      assertInvariant(out.length === batch.length, 'experiment', 'one result per item of a batch');
      batch.forEach((index, k) => {
        results[index] = out[k]!;
        done[index] = true;
        onDone?.(out[k]!);
      });
      report();
    }
  };
  await Promise.all(
    lanes.flatMap((lane) => {
      const state = { next: 0 };
      // A lane with no items starts no loop; a loop that finds none left ends.
      const loops = lane.indices.length === 0 ? 0 : lane.width;
      return Array.from({ length: loops }, () => loop(lane, state));
    }),
  );
  return results;
}
