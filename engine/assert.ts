/**
 * Invariant checks in the code itself (TigerBeetle style): a failed one is a bug here, not bad
 * input, so it throws a plain Error naming the invariant (`<where> invariant: <message>`).
 */
export function assertInvariant(
  condition: boolean,
  where: string,
  message: string,
): asserts condition {
  if (!condition) throw new Error(`${where} invariant: ${message}`);
}
