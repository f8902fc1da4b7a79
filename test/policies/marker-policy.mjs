// A policy module that leaves a mark when it is loaded (TOOLTIME_TEST_MARKER names the file): the
// queue test shows a worker loads a module its own command line names, never one a job names.
import { writeFileSync } from 'node:fs';

if (process.env.TOOLTIME_TEST_MARKER) writeFileSync(process.env.TOOLTIME_TEST_MARKER, 'loaded');

export default function createPolicy() {
  return { decide: () => ({ actions: [] }) };
}
