/**
 * What `tooltime worker URL` does with one job: checks it may run it (the same tooltime version, an
 * agent this worker can make from its own command line, the scenario matching its digest), then
 * runs it through the job seam every out-of-thread episode goes through (episode-jobs.ts), so its
 * line and replay are the bytes a local run makes (a model agent's: queue-model.ts).
 */
import { UnrecoverableError } from 'bullmq';
import { isModelSpec, isModuleSpec } from '../agents/index.js';
import type { Agent } from '../scenarios/protocol.js';
import { adoptCanonicalScenario } from '../scenarios/spec/canonical-scenario.js';
import { packageVersion } from '../scenarios/package.js';
import { episodeJobRunner, type EpisodeJobResult, type EpisodeJob } from './episode-jobs.js';
import { runModelJob, type WorkerModels } from './queue-model.js';
import { jobName, scenarioDigest, type QueueJobData, type QueueJobResult } from './queue.js';

/** Job runners kept (one per scenario and world: each keeps its (instance, seed) references). */
const MAX_RUNNERS = 64;

type Runner = (job: EpisodeJob) => Promise<EpisodeJobResult>;

/**
 * A worker's job handler. `policies` are the module specs its command line named (loaded by
 * `makeAgent`); a job naming any other module is refused, never loaded. `models`: what its command
 * line says about model agents (null: it runs none).
 */
export function queueJobHandler(
  policies: readonly string[],
  makeAgent: (spec: string) => Agent,
  models: WorkerModels | null = null,
): (data: QueueJobData) => Promise<QueueJobResult> {
  const runners = new Map<string, Runner>();
  const version = packageVersion();
  return async (data) => {
    const key = { instance: data.scenario?.id, agent: data.agent, seed: data.seed };
    refuseUnless(data.version === version, () => {
      return `job ${jobName(key)} was enqueued by tooltime ${String(data.version)}, this worker is tooltime ${version}: run workers of the coordinator's version`;
    });
    refuseUnless(!isModuleSpec(data.agent) || policies.includes(data.agent), () => {
      return `job ${jobName(key)} names policy module ${data.agent}, which this worker's command line does not: start it with --policy ${data.agent}`;
    });
    const digest = scenarioDigest(data.scenario);
    refuseUnless(digest === data.scenarioDigest, () => {
      return `job ${jobName(key)}: its scenario has ${digest}, not ${data.scenarioDigest}`;
    });
    if (isModelSpec(data.agent)) return runModelJob(data, models, makeAgent);
    const run = runnerFor(runners, data, makeAgent);
    const result = await run({ instance: data.scenario.id, agent: data.agent, seed: data.seed });
    if (result.replay === null) throw new Error(`job ${jobName(key)}: no replay was recorded`);
    return { line: result.line, replay: Buffer.from(result.replay).toString('base64') };
  };
}

function refuseUnless(ok: boolean, message: () => string): void {
  // Unrecoverable: no other attempt would do better (BullMQ fails the job at once).
  if (!ok) throw new UnrecoverableError(message());
}

/** The runner of a job's scenario and world, made once (the oldest dropped past MAX_RUNNERS). */
function runnerFor(
  runners: Map<string, Runner>,
  data: QueueJobData,
  makeAgent: (spec: string) => Agent,
): Runner {
  const key = [data.scenarioDigest, data.file, data.mode, data.delivery].join('\u0000');
  let run = runners.get(key);
  if (run === undefined) {
    // The scenario was checked against its digest: it is the canonical form, as JSON keeps it.
    const scenario = adoptCanonicalScenario(data.scenario);
    run = episodeJobRunner({
      instances: [{ file: data.file, scenario }],
      mode: data.mode,
      delivery: data.delivery,
      makeAgent,
      record: true,
    });
    if (runners.size >= MAX_RUNNERS) runners.delete(runners.keys().next().value!);
    runners.set(key, run);
  }
  return run;
}
