// A policy with a bug, for the tests of `tooltime stress --workers N`: it declares at most
// `declared` calls in flight (default 2), but plays the example policy, which issues every ready
// step at once. The higher the declared cap, the rarer the cases that break it.
import createExample from './example-policy.mjs';

export default function createPolicy(options) {
  const declared = Number(options.params.declared ?? 2);
  return { ...createExample({ ...options, params: {} }), maxInFlight: declared };
}
