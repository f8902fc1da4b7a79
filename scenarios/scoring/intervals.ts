/** Interval arithmetic for the efficiency metrics: half-open [startUs, endUs) on the simulation clock. */

export interface Interval {
  readonly startUs: number;
  readonly endUs: number;
}

/** Total length of `intervals` clipped to [fromUs, toUs]. Overlapping intervals count once each. */
export function clippedLength(
  intervals: readonly Interval[],
  fromUs: number,
  toUs: number,
): number {
  let total = 0;
  for (const i of intervals)
    total += Math.max(0, Math.min(i.endUs, toUs) - Math.max(i.startUs, fromUs));
  return total;
}

/**
 * Over all `calls`: their total length (the wait), and the part of it during which at least one
 * other call was in flight or a decision was under way (`decisions` never overlap each other).
 * A sweep over the interval endpoints: in a segment with n calls in flight, n >= 2 makes all n
 * overlapped; n = 1 is overlapped only inside a decision.
 */
export function callOverlap(
  calls: readonly Interval[],
  decisions: readonly Interval[],
): { waitUs: number; overlappedUs: number } {
  const delta = new Map<number, { calls: number; decisions: number }>();
  const add = (t: number, field: 'calls' | 'decisions', d: number) => {
    const entry = delta.get(t) ?? { calls: 0, decisions: 0 };
    entry[field] += d;
    delta.set(t, entry);
  };
  for (const c of calls) {
    if (c.endUs <= c.startUs) continue;
    add(c.startUs, 'calls', 1);
    add(c.endUs, 'calls', -1);
  }
  for (const d of decisions) {
    if (d.endUs <= d.startUs) continue;
    add(d.startUs, 'decisions', 1);
    add(d.endUs, 'decisions', -1);
  }
  const times = [...delta.keys()].sort((a, b) => a - b);
  let inFlight = 0;
  let inDecision = 0;
  let waitUs = 0;
  let overlappedUs = 0;
  for (const [k, t] of times.entries()) {
    const d = delta.get(t)!;
    inFlight += d.calls;
    inDecision += d.decisions;
    const next = times[k + 1];
    if (next === undefined) break;
    const length = next - t;
    waitUs += inFlight * length;
    if (inFlight >= 2 || (inFlight === 1 && inDecision > 0)) overlappedUs += inFlight * length;
  }
  return { waitUs, overlappedUs };
}

/** The union of `intervals` as disjoint intervals in time order (empty ones dropped). */
function merged(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.endUs > i.startUs).sort((a, b) => a.startUs - b.startUs);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out.at(-1);
    if (last !== undefined && i.startUs <= last.endUs)
      out[out.length - 1] = { startUs: last.startUs, endUs: Math.max(last.endUs, i.endUs) };
    else out.push(i);
  }
  return out;
}

/** Length of the time covered by both (the union of) `a` and (the union of) `b`. */
export function sharedLength(a: readonly Interval[], b: readonly Interval[]): number {
  const x = merged(a);
  const y = merged(b);
  let total = 0;
  let j = 0;
  for (const i of x) {
    while (j < y.length && y[j]!.endUs <= i.startUs) j++;
    for (let k = j; k < y.length && y[k]!.startUs < i.endUs; k++)
      total += Math.min(i.endUs, y[k]!.endUs) - Math.max(i.startUs, y[k]!.startUs);
  }
  return total;
}
