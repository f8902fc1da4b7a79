// A complete scheduling policy as a module: `npx tooltime run --agent ./example-policy.mjs` or
// `npx tooltime stress --agent ./example-policy.mjs:maxInFlight=3`.
//
// The default export is called once per episode with the parameters after the colon (strings).
// It returns an agent: decide(observation) -> { actions, thinkUs? }; start(context) is optional.
// This one knows the plan (context.scenario). Each request (a task, or a follow-up message about
// it) makes its steps known and asks for an answer. It issues every known step whose dependencies'
// results have been delivered, first come first served (at most maxInFlight at once; a failed call
// queues again, up to MAX_ATTEMPTS), and answers each task, with the latest expected answer, once
// its known steps are settled.
export default function createPolicy({ params }) {
  const maxInFlight = params.maxInFlight === undefined ? Infinity : Number(params.maxInFlight);
  const tasks = new Map(); // id -> { requests: [{ steps, answer }], seen, steps: [], answer, open }
  const done = new Set(); // step keys whose result was delivered
  const inFlight = new Set(); // step keys issued, result not delivered yet
  const readySince = new Map(); // step key -> the decision that first found it ready
  const failures = new Map(); // step key -> failed attempts; at MAX_ATTEMPTS the step is given up
  const MAX_ATTEMPTS = 8; // a tool may fail or time out every time
  const steps = new Map(); // step key -> step, every step known so far
  // A step can never run when it or a step it waits on was given up; settled: done or never.
  const givenUp = (key) => failures.get(key) >= MAX_ATTEMPTS || steps.get(key).after.some(givenUp);
  const settled = (key) => done.has(key) || givenUp(key);

  return {
    maxInFlight,
    start({ scenario }) {
      const stepsOf = (task, list) =>
        list.map((s) => ({
          key: `${task}/${s.id}`,
          tool: s.tool,
          args: s.args,
          after: s.after.map((d) => `${task}/${d}`),
        }));
      // Follow-ups arrive in time order (on the world's clock: whole µs), ties in file order.
      const us = (m) => Math.floor(m.atMs * 1000 + 0.5);
      const followUps = [...scenario.messages].sort((a, b) => us(a) - us(b));
      for (const t of scenario.tasks) {
        const requests = [t, ...followUps.filter((m) => m.task === t.id)].map((r) => ({
          steps: stepsOf(t.id, r.steps),
          answer: r.answer,
        }));
        tasks.set(t.id, { requests, seen: 0, steps: [], answer: '', open: false });
      }
    },
    decide(observation) {
      for (const d of observation.delivered) {
        if (d.type === 'task' || d.type === 'message') {
          const task = tasks.get(d.task);
          const request = task.requests[task.seen++];
          task.steps.push(...request.steps);
          for (const step of request.steps) steps.set(step.key, step);
          if (request.answer !== undefined) task.answer = request.answer.mustContain.join('; ');
          task.open = true;
        }
        if (d.ref == null) continue; // not a call's outcome, or a call without a ref
        if (d.type === 'result' || d.type === 'error') inFlight.delete(d.ref);
        if (d.type === 'result') done.add(d.ref);
        if (d.type === 'error') {
          failures.set(d.ref, (failures.get(d.ref) ?? 0) + 1);
          readySince.delete(d.ref); // to the back of the queue
        }
      }
      // Ready steps, the longest waiting first (so no task waits behind another's), within the cap.
      const ready = [];
      for (const task of tasks.values()) {
        for (const step of task.steps) {
          if (settled(step.key) || inFlight.has(step.key) || !step.after.every((k) => done.has(k)))
            continue;
          if (!readySince.has(step.key)) readySince.set(step.key, observation.decision);
          ready.push(step);
        }
      }
      ready.sort((a, b) => readySince.get(a.key) - readySince.get(b.key));
      const actions = [];
      for (const step of ready.slice(0, maxInFlight - inFlight.size)) {
        inFlight.add(step.key);
        actions.push({ type: 'call', tool: step.tool, args: step.args, ref: step.key });
      }
      for (const [id, task] of tasks) {
        if (task.open && task.steps.every((s) => settled(s.key))) {
          task.open = false;
          actions.push({ type: 'answer', task: id, content: task.answer });
        }
      }
      // All it can do is done: wait for the next delivery rather than spend a decision (and its
      // think time) finding that out.
      if (actions.length > 0) actions.push({ type: 'wait' });
      return { actions }; // no thinkUs: the scenario's think time applies
    },
  };
}
