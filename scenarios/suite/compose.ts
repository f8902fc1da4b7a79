/**
 * compose: two or three seed tasks become one AsyncTool instance (see OPERATORS.md).
 */
import type { RandomStream } from '../../engine/index.js';
import type { SeedTask } from './domains.js';
import type { Tool } from '../spec/schema.js';
import { emptyScenario, shuffled, type Catalog, type Draft, type TaskOrigin } from './model.js';

/**
 * The seed tasks in a shuffled order (one stream draw per swap), each task's id kept (or suffixed
 * `-2`, `-3`, ... when it is already taken), all arriving at 0; tools: every tool a task step uses,
 * one copy each, in order of first use. Seeds may come from one domain (similar) or several (cross).
 */
export function compose(catalog: Catalog, seeds: readonly SeedTask[], stream: RandomStream): Draft {
  if (seeds.length === 0) throw new Error('compose needs at least one seed task');
  const order = shuffled(stream, seeds);
  const scenario = emptyScenario();
  const origins: TaskOrigin[] = [];
  const taken = new Set<string>();
  const tools: Tool[] = [];
  const toolSeen = new Set<string>();
  for (const seed of order) {
    let id = seed.task.id;
    for (let k = 2; taken.has(id); k++) id = `${seed.task.id}-${k}`;
    taken.add(id);
    const task = structuredClone(seed.task);
    scenario.tasks.push({ ...task, id, arrivalMs: 0 });
    origins.push({ id, seed: seed.task.id, domain: seed.domain, pattern: seed.pattern });
    for (const step of task.steps) {
      if (toolSeen.has(step.tool)) continue;
      const tool = catalog.toolByName.get(step.tool);
      if (tool === undefined)
        throw new Error(`seed ${seed.task.id}: no tool ${step.tool} in the catalogue`);
      toolSeen.add(step.tool);
      tools.push(structuredClone(tool));
    }
  }
  scenario.tools.push(...tools);
  const domains = [...new Set(origins.map((o) => o.domain))];
  const mix = domains.length === 1 ? 'similar-domain' : 'cross-domain';
  const note = `${mix} composition of ${origins.map((o) => `${o.id} (${o.domain}, ${o.pattern})`).join(', ')}`;
  return {
    scenario,
    meta: { tasks: origins, operators: ['compose'], variant: 'base', touched: {}, notes: [note] },
  };
}
