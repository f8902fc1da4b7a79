/**
 * Replays: self-contained, deterministic recordings of episodes (format: replays/FORMAT.md).
 *
 * - write: `ReplayRecorder` (streaming), `encodeReplay` (in memory), `recordEpisode` (run + record),
 *   `ReplayWriter` (many files, written on a thread of their own: `tooltime run --out`);
 * - read: `readReplay`, `readReplayFile` (complete prefix of a truncated file; `ReplayTruncatedError`
 *   for one cut before its header is whole; `ReplayError` otherwise);
 * - use: `verifyReplay`, `verifyReplayFiles` (many files, on worker threads), `diffReplays`, `forkReplay`, `inspectReplay`, `scoreReplay`, golden replays.
 */
export { ReplayError, FORMAT_VERSION, MAGIC } from './format.js';
export { CodecError, encodeJson, decodeJson } from './codec.js';
export { makeHeader, replayScenario, agentConfig, tooltimeVersion, type ReplayHeader, type ForkOrigin, type HeaderOptions } from './header.js';
export { ReplayRecorder, MemorySink, FileSink, encodeReplay, recordEpisode, type ReplaySink, type RecordingSummary, type RecordOptions } from './recorder.js';
export { ReplayWriter, ReplayWriteError, type WriterSinkOptions, type ReplayWriterOptions } from './writer.js';
export { readReplay, readReplayHeader, readReplayFile, readReplayBytes, openReplayStream, ReplayTruncatedError, type ReplayStream, DEFAULT_MAX_BYTES, type HeaderRead, type ReplayRead, type ReadOptions, type ReplaySizes } from './reader.js';
export { verifyReplay, rerun, defaultReplayAgent, type VerifyOptions, type VerifyResult, type Divergence, type VerifyTiming } from './verify.js';
export { verifyReplayFiles, VerifyPool, autoWorkers, type FileVerdict, type VerifyFilesOptions } from './verify-files.js';
export { forkReplay, ForkAgent, forkAgentFor, handoverIndex, replayedDecisions, type ForkOptions, type ForkResult, type ReplayedDecision } from './fork.js';
export { diffReplays, diffSources, type ReplayDiff } from './diff.js';
export { fileSource, sourceOfRead, type EpisodeSource, type SourceEnd } from './source.js';
export { inspectReplay, writeInspect, formatText, formatJsonl, formatChrome, INSPECT_FORMATS, type InspectFormat } from './inspect.js';
export { scoreReplay, summarizeReplay, summarizeSource, episodeFacts, type ReplaySummary, type EpisodeFacts } from './score.js';
export { generateGolden, writeGolden, checkGolden, goldenDir, GOLDEN_AGENTS, GOLDEN_SEED, type GoldenReplay } from './golden.js';
