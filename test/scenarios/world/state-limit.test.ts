import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_STATE_BYTES } from '../../../scenarios/envs/state.js';
import { canonicalJson } from '../../../scenarios/spec/canonical.js';
import { examplesDir } from '../../../scenarios/spec/load.js';
import type { ScenarioInput } from '../../../scenarios/spec/schema.js';
import { parseScenario } from '../../../scenarios/spec/validate.js';
import { compiledScenario } from '../../../scenarios/world/compiled.js';
import { InstanceStates } from '../../../scenarios/world/environments.js';

const input = JSON.parse(
  readFileSync(join(examplesDir(), 'stateful-files.json'), 'utf8'),
) as ScenarioInput;
const scenario = parseScenario(input);
const task = scenario.tasks[0]!.id;

// Found by the fuzzer's follow-up: the initial state is bounded, but writes could grow a state
// to the file system's own limits (4,096 entries of 65,536 characters), each write hashing it all.
describe('regression: an environment state grows past MAX_STATE_BYTES by writes', () => {
  it('refuses the write that would pass the limit as a tool error, the state left as it was', () => {
    const states = new InstanceStates(compiledScenario(scenario).environments);
    const ref = { environment: 'files', task };
    const content = 'x'.repeat(60_000);
    let refused: string | null = null;
    let written = 0;
    for (let i = 0; i < 40 && refused === null; i++) {
      const before = canonicalJson(states.get(ref));
      const { outcome, digest } = states.apply(
        'write',
        { path: `/reports/f${i}.txt`, content },
        ref,
        0,
      );
      if (outcome.ok) {
        written++;
        expect(digest).not.toBeNull();
        expect(Buffer.byteLength(canonicalJson(states.get(ref)))).toBeLessThanOrEqual(
          MAX_STATE_BYTES,
        );
      } else {
        refused = outcome.error;
        expect(digest).toBeNull();
        expect(canonicalJson(states.get(ref))).toBe(before);
      }
    }
    expect(written).toBeGreaterThan(10);
    expect(refused).toMatch(/^files's state would reach \d+ bytes, over the limit of 1048576/);
  });
});
