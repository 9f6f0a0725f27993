import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Triple } from '../../../lib/dlm/site';
import { faultPlanArbitrary } from '../../support/closed-loop-fault-plans';
import type { Plan } from '../../support/closed-loop-property';

/**
 * The faults property's plans (test/support/closed-loop-fault-plans.ts) keep the premise its judge
 * goes by: while a meter is blind (silent, lying 0 A or negated, reading the impossible) its own
 * loads move only within what it read before, and once ampflow is gone every meter's loads do
 * (the fallbacks were chosen beside the loads as learned; nobody reacts any more). A plan that
 * breaks it is an overload no set-point could prevent, failed on the load manager: seed 20261125
 * paths 1777 and 7392, where a meter's impossible readings held the loads below the root, and so
 * lowered the peak a silent meter below had read a minute in, while its copy after ampflow went
 * stayed (26.7 A and 18.3 A that no meter had read). Plans only, no simulation: cheap.
 */

const MINUTE = 60_000;

/** Where `plan` breaks the premise, in words; none: it keeps it. */
function unseenRises(plan: Plan): string[] {
  const found: string[] = [];
  const blind: { id: string; fromMs: number; toMs: number; what: string }[] = [];
  for (const [id, faults] of Object.entries(plan.meterFaults ?? {})) {
    for (const d of faults.dropouts ?? []) blind.push({ id, ...d, what: 'silent' });
    for (const lie of faults.lies ?? [])
      if (lie.kind !== 'frozen')
        blind.push({ id, fromMs: lie.fromMs, toMs: lie.toMs, what: `reads ${lie.kind}` });
  }
  if (plan.goneAtMs !== undefined)
    for (const id of Object.keys(plan.meterIntervalMs))
      blind.push({ id, fromMs: plan.goneAtMs, toMs: Number.POSITIVE_INFINITY, what: 'ampflow gone' });
  for (const { id, fromMs, toMs, what } of blind) {
    const steps = plan.loads[id] ?? [];
    // What its meter read: the steps that took effect (the last of several at one time) a minute before.
    const seen: Triple = [0, 0, 0];
    steps.forEach((s, i) => {
      if (s.fromMs >= fromMs - MINUTE || steps[i + 1]?.fromMs === s.fromMs) return;
      for (const p of [0, 1, 2] as const) seen[p] = Math.max(seen[p], s.levels[p] ?? 0);
    });
    for (const s of steps) {
      if (s.fromMs < fromMs - MINUTE || s.fromMs >= toMs) continue;
      if (s.levels.some((v, p) => v > (seen[p] ?? 0) + 1e-9))
        found.push(
          `${id} ${what} from ${fromMs / 1000} s: ${s.levels} A at ${s.fromMs / 1000} s, read ${seen} A`,
        );
    }
  }
  return found;
}

/** The plan fast-check draws for `seed` at `path`. */
function planAt(seed: number, path: string): Plan {
  let plan: Plan | undefined;
  fc.assert(
    fc.property(faultPlanArbitrary, (p) => {
      plan = p;
    }),
    { seed, path, numRuns: 1 },
  );
  return plan as Plan;
}

describe('The closed-loop faults property: its plans', () => {
  it('hold a blind meter’s loads, and every meter’s once ampflow is gone, within what it read (seed 20261125 paths 1777, 7392)', () => {
    for (const path of ['1777', '7392']) {
      const plan = planAt(20261125, path);
      assert.ok(
        Object.values(plan.meterFaults ?? {}).some((f) => f.lies?.some((l) => l.kind === 'absurd')),
        `path ${path} plays a meter's impossible readings`,
      );
      assert.deepEqual(unseenRises(plan), [], `path ${path}`);
    }
  });

  it('do so on 300 sites of the short form’s seed', () => {
    const plans = fc.sample(faultPlanArbitrary, { seed: 20261124, numRuns: 300 });
    const broken = plans.flatMap((plan, path) => unseenRises(plan).map((why) => `path ${path}: ${why}`));
    assert.deepEqual(broken, []);
  });
});
