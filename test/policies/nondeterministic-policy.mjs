// A policy that is NOT deterministic, for the tests of `run --verify-sample`: it plays the example
// policy, but signs each answer with the number of episodes it has played (a counter kept in the
// module, across episodes), so an episode re-run later, or on another thread, answers otherwise.
import createExample from './example-policy.mjs';

let episodes = 0;

export default function createPolicy(options) {
  const played = episodes++;
  const inner = createExample(options);
  const sign = (a) => (a.type === 'answer' ? { ...a, content: `${a.content} (#${played})` } : a);
  return {
    ...inner,
    decide(observation) {
      const decision = inner.decide(observation);
      return { ...decision, actions: decision.actions.map(sign) };
    },
  };
}
