/**
 * Replays: self-contained, deterministic recordings of episodes (format: replays/FORMAT.md).
 *
 * - write: `ReplayRecorder` (streaming), `encodeReplay` (in memory), `recordEpisode` (run + record);
 * - read: `readReplay`, `readReplayFile` (complete prefix of a truncated file; `ReplayTruncatedError`
 *   for one cut before its header is whole; `ReplayError` otherwise);
 * - use: `verifyReplay`, `verifyReplayFiles` (many files, on worker threads), `diffReplays`, `forkReplay`, `inspectReplay`, `summarizeReplay`, golden replays.
 */
export { ReplayError, FORMAT_VERSION, MAGIC } from './format/format.js';
export { CodecError, encodeJson, decodeJson } from './format/codec.js';
export {
  makeHeader,
  replayScenario,
  agentConfig,
  tooltimeVersion,
  type ReplayHeader,
  type ForkOrigin,
  type HeaderOptions,
} from './format/header.js';
export {
  ReplayRecorder,
  MemorySink,
  FileSink,
  encodeReplay,
  recordEpisode,
  type ReplaySink,
  type RecordingSummary,
  type RecordOptions,
} from './io/recorder.js';
export {
  readReplay,
  readReplayHeader,
  readReplayFile,
  readReplayBytes,
  openReplayStream,
  ReplayTruncatedError,
  type ReplayStream,
  DEFAULT_MAX_BYTES,
  type HeaderRead,
  type ReplayRead,
  type ReadOptions,
  type ReplaySizes,
} from './io/reader.js';
export {
  verifyReplay,
  rerun,
  defaultReplayAgent,
  type VerifyOptions,
  type VerifyResult,
  type Divergence,
  type VerifyTiming,
} from './commands/verify.js';
export {
  verifyReplayFiles,
  VerifyPool,
  autoWorkers,
  type FileVerdict,
  type VerifyFilesOptions,
} from './commands/verify-files.js';
export {
  forkReplay,
  ForkAgent,
  forkAgentFor,
  handoverIndex,
  replayedDecisions,
  type ForkOptions,
  type ForkResult,
  type ReplayedDecision,
} from './commands/fork.js';
export { diffReplays, diffSources, type ReplayDiff } from './commands/diff.js';
export { fileSource, sourceOfRead, type EpisodeSource, type SourceEnd } from './io/source.js';
export {
  inspectReplay,
  writeInspect,
  formatText,
  formatJsonl,
  formatChrome,
  INSPECT_FORMATS,
  type InspectFormat,
} from './commands/inspect.js';
export {
  replayReference,
  rescoreReplay,
  rescoreSource,
  summarizeReplay,
  summarizeSource,
  type ReplaySummary,
  type EpisodeFacts,
} from './commands/score.js';
export {
  generateGolden,
  writeGolden,
  checkGolden,
  goldenDir,
  GOLDEN_AGENTS,
  GOLDEN_SEED,
  type GoldenReplay,
} from './commands/golden.js';
