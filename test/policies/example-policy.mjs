// A complete scheduling policy as a module: `npx tooltime run --agent ./example-policy.mjs` or
// `npx tooltime stress --agent ./example-policy.mjs:maxInFlight=3`.
//
// The default export is called once per episode with the parameters after the colon (strings).
// It returns an agent: decide(observation) -> { actions, thinkUs? }; start(context) is optional.
// This one knows the plan (context.scenario), issues every step whose dependencies' results have
// been delivered (at most maxInFlight at once), and answers each task when its steps are done.
export default function createPolicy({ params }) {
  const maxInFlight = params.maxInFlight === undefined ? Infinity : Number(params.maxInFlight);
  let tasks = []; // [{ id, steps: [{ key, tool, args, after: [keys] }], answer }]
  const released = new Set(); // task ids the agent has been told about
  const done = new Set(); // step keys whose result was delivered
  const inFlight = new Set(); // step keys issued, result not delivered yet
  const answered = new Set();

  return {
    maxInFlight,
    start(context) {
      tasks = context.scenario.tasks.map((t) => ({
        id: t.id,
        steps: t.steps.map((s) => ({ key: `${t.id}/${s.id}`, tool: s.tool, args: s.args, after: s.after.map((d) => `${t.id}/${d}`) })),
        answer: t.answer.mustContain.join('; '),
      }));
    },
    decide(observation) {
      for (const d of observation.delivered) {
        if (d.type === 'task') released.add(d.task);
        if ((d.type === 'result' || d.type === 'error') && d.ref !== null) inFlight.delete(d.ref);
        if (d.type === 'result' && d.ref !== null) done.add(d.ref);
      }
      const actions = [];
      for (const task of tasks) {
        if (!released.has(task.id)) continue;
        for (const step of task.steps) {
          const ready = !done.has(step.key) && !inFlight.has(step.key) && step.after.every((k) => done.has(k));
          if (ready && inFlight.size < maxInFlight) {
            inFlight.add(step.key);
            actions.push({ type: 'call', tool: step.tool, args: step.args, ref: step.key });
          }
        }
        if (!answered.has(task.id) && task.steps.every((s) => done.has(s.key))) {
          answered.add(task.id);
          actions.push({ type: 'answer', task: task.id, content: task.answer });
        }
      }
      return { actions }; // no thinkUs: the scenario's think time applies
    },
  };
}
