/**
 * A worker thread of `verifyReplayFiles` (verify-files.ts): verifies the files it is sent, one at
 * a time in the order received, and answers each job with its verdicts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { verifyFile, type VerifyJob, type VerifyReply } from './verify-files.js';

const port = parentPort;
if (port === null) throw new Error('verify-worker.js runs as a worker thread of verifyReplayFiles');
const { maxBytes, policies } = workerData as {
  readonly maxBytes: number | undefined;
  readonly policies: readonly string[];
};

// One file at a time: jobs arrive ahead of time, and verifying two at once would only interleave them.
let queue: Promise<void> = Promise.resolve();
port.on('message', (job: VerifyJob) => {
  queue = queue.then(async () => {
    let reply: VerifyReply;
    try {
      const verdicts = [];
      for (const file of job.files) verdicts.push(await verifyFile(file, maxBytes, policies));
      reply = { index: job.index, verdicts };
    } catch (error) {
      reply = {
        index: job.index,
        crash: {
          message: error instanceof Error ? error.message : String(error),
          stack: error instanceof Error ? error.stack : undefined,
        },
      };
    }
    port.postMessage(reply);
  });
});
