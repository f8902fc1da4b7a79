/**
 * bench/results.ts: `npm run bench` refreshes the figures between the markers of bench/RESULTS.md
 * and leaves the prose around them as it was.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  refreshResults,
  resultsBlock,
  RESULTS_END,
  RESULTS_START,
  thisMachine,
} from '../../bench/results.js';

const ROOT = join(import.meta.dirname, '..', '..');
const machine = { date: '2026-12-06', cpuModel: 'Test CPU', cores: 2, node: 'v20.20.2' };

describe('refreshResults', () => {
  it('replaces only the block between the markers, with the date and the machine', () => {
    const text = `# R\n\nbefore\n${RESULTS_START}\nold figures\n${RESULTS_END}\n\nafter: prose\n`;
    const out = refreshResults(text, resultsBlock(machine, 'engine 5.0 M events/s\n'));
    expect(out).toBe(
      `# R\n\nbefore\n${RESULTS_START}\nRun on 2026-12-06, \`npm run bench\` on Test CPU (2 cores), Node v20.20.2.\n\n\`\`\`text\nengine 5.0 M events/s\n\`\`\`\n${RESULTS_END}\n\nafter: prose\n`,
    );
    // Refreshing again with the same figures changes nothing.
    expect(refreshResults(out, resultsBlock(machine, 'engine 5.0 M events/s\n'))).toBe(out);
  });

  it('refuses a file whose markers are missing, repeated or out of order', () => {
    expect(() => refreshResults('no markers', 'x')).toThrow(/no <!-- bench:start --> marker/);
    expect(() => refreshResults(`${RESULTS_START}\n`, 'x')).toThrow(/no <!-- bench:end --> marker/);
    expect(() => refreshResults(`${RESULTS_END}\n${RESULTS_START}\n`, 'x')).toThrow(/comes before/);
    expect(() =>
      refreshResults(`${RESULTS_START}\n${RESULTS_END}\n${RESULTS_START}\n`, 'x'),
    ).toThrow(/twice/);
  });

  it('the committed bench/RESULTS.md has its markers, so the bench can refresh it', () => {
    const text = readFileSync(join(ROOT, 'bench', 'RESULTS.md'), 'utf8');
    expect(() => refreshResults(text, 'x\n')).not.toThrow();
  });

  it('thisMachine names a date, a CPU model, a core count and the Node version', () => {
    const m = thisMachine(new Date('2026-12-06T04:00:00Z'));
    expect(m.date).toBe('2026-12-06');
    expect(m.cores).toBeGreaterThan(0);
    expect(m.node).toBe(process.version);
    expect(m.cpuModel.length).toBeGreaterThan(0);
  });
});
