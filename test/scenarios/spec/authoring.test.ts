import { describe, expect, it } from 'vitest';
import { environmentTools, goalAt, referenceStates } from '../../../scenarios/spec/authoring.js';
import { scenarioSchema } from '../../../scenarios/spec/schema.js';
import { parseScenario, validateScenario } from '../../../scenarios/spec/validate.js';

/** A scenario built with the helpers: one task on a shared file system. */
function draft(goal?: unknown) {
  return {
    format: 'tooltime.scenario/1',
    id: 'authored',
    environments: [{ id: 'fs', kind: 'filesystem', initial: { tmp: {} }, shared: true }],
    tools: environmentTools('fs', 'filesystem', {
      latency: { kind: 'constant', ms: 50 },
      operations: ['ls', 'mkdir', 'write'],
      names: { ls: 'list_directory' },
      failure: { rate: 0, lostRate: 0.5 },
    }),
    tasks: [
      {
        id: 'a',
        message: 'make /out/a.txt',
        steps: [
          { id: 'd', tool: 'mkdir', args: { path: '/out' } },
          { id: 'w', tool: 'write', args: { path: '/out/a.txt', content: 'A' }, after: ['d'] },
        ],
        answer: { mustContain: ['a.txt'] },
        ...(goal === undefined ? {} : { goal }),
      },
    ],
  };
}

describe('authoring helpers', () => {
  it('environmentTools: the named operations, renamed, failure only on those that change state', () => {
    const tools = draft().tools;
    expect(tools.map((t) => [t.name, t.failure === undefined])).toEqual([
      ['list_directory', true],
      ['mkdir', false],
      ['write', false],
    ]);
    expect(() =>
      environmentTools('fs', 'filesystem', {
        latency: { kind: 'constant', ms: 1 },
        operations: ['cd'],
      }),
    ).toThrow('filesystem has no operation cd');
  });

  it('goalAt gives the checks a shared environment needs, and the scenario then validates', () => {
    // Without a goal, a task on a shared environment is refused.
    expect(validateScenario(draft()).map((p) => p.path)).toEqual(['tasks[0]']);
    const scenario = parseScenario({
      ...draft(),
      tasks: draft().tasks.map((t) => ({
        ...t,
        goal: [{ environment: 'fs', path: '', exists: true }],
      })),
    });
    expect(referenceStates(scenario, 'a').get('fs')).toEqual({ out: { 'a.txt': 'A' }, tmp: {} });
    const goal = goalAt(scenario, 'a', 'fs', ['/out/a.txt', '/out/b.txt']);
    expect(goal).toEqual([
      { environment: 'fs', path: '/out/a.txt', equals: 'A' },
      { environment: 'fs', path: '/out/b.txt', absent: true },
    ]);
    expect(validateScenario(draft(goal))).toEqual([]);
  });

  it('referenceStates names the step that fails (on a draft the schema alone parsed)', () => {
    const doc = draft([{ environment: 'fs', path: '', exists: true }]);
    const steps = [{ id: 'w', tool: 'write', args: { path: '/out/a.txt', content: 'A' } }];
    const scenario = scenarioSchema.parse({ ...doc, tasks: [{ ...doc.tasks[0]!, steps }] });
    expect(() => referenceStates(scenario, 'a')).toThrow(
      'task a: step w fails: write: /out: no such directory',
    );
  });
});
