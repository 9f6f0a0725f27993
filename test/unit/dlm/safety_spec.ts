import assert from 'node:assert/strict';
import type { PerPhase } from '../../../lib/contracts';
import { type AllocationProblem, allocate } from '../../../lib/dlm/allocation/allocate';
import { checkAllocation } from '../../../lib/dlm/allocation/invariant';
import { type SiteConfig, validateSite } from '../../../lib/dlm/site';
import { harness } from './support';

/**
 * Regression tests for the safety findings of the independent review of the load manager: each
 * failed on the code before its fix. What is asserted is what the breaker carries (computed here
 * from what the chargers draw), not only what the load manager counts.
 */

type Harness = ReturnType<typeof harness>;

/** Seconds (1 s steps) during which `load()` was above `limit`, and in how many episodes. */
function watch(h: Harness, seconds: number, limit: number, load: () => number) {
  let over = 0;
  let episodes = 0;
  let was = false;
  let peak = 0;
  for (let s = 0; s < seconds; s++) {
    h.run(1000);
    const now = load();
    peak = Math.max(peak, now);
    if (now > limit + 1e-9) {
      over += 1;
      if (!was) episodes += 1;
    }
    was = now > limit + 1e-9;
  }
  return { over, episodes, peak };
}

const reading = (h: Harness, source: string, currentA: unknown) =>
  h.manager.reading({ source, timestamp: h.iso(), currentA: currentA as PerPhase });

describe('LoadManager safety: misbehaving chargers, meters and inputs never overload a breaker', () => {
  let h: Harness;
  afterEach(() => h?.stop());

  describe('1. a charger that ignores its set-point', () => {
    const zone: SiteConfig = {
      circuits: [{ id: 'zone', limitA: 63, meter: { source: 'common', location: 'otherLoadsOnly' } }],
      connectors: [1, 2, 3].map((i) => ({ chargePointId: `CP-${i}`, circuit: 'zone' })),
      unbalanceLimitA: null,
    };

    /** CP-1 draws 32 A whatever it is told, its meter reporting every `everyMs`; CP-2 and CP-3 obey. */
    function rogueZone(everyMs: number) {
      h = harness(zone);
      h.feed(() => h.meter('common', [10, 10, 10]));
      h.start();
      for (const i of [1, 2, 3]) h.plugIn(`CP-${i}/1`, {}, 'Charging');
      let elapsed = 0;
      h.feed(() => {
        elapsed += 1000;
        if (elapsed % everyMs === 1000) reading(h, 'CP-1/1', [32, 32, 32]);
        for (const key of ['CP-2/1', 'CP-3/1']) {
          const limit = h.limit(key) ?? 0;
          reading(h, key, [limit, limit, limit]);
        }
      });
      // What the zone carries: the common areas, the rogue's 32 A, the others at their set-points.
      return () => 10 + 32 + (h.limit('CP-2/1') ?? 0) + (h.limit('CP-3/1') ?? 0);
    }

    for (const everyMs of [10_000, 300_000]) {
      it(`is not forgiven over and over: the zone never carries more than 63 A (its meter every ${everyMs / 1000} s)`, () => {
        const load = rogueZone(everyMs);
        const result = watch(h, 1200, 63, load);
        assert.equal(
          result.over,
          0,
          `${result.over} s over 63 A in ${result.episodes} episodes, peak ${result.peak} A`,
        );
        const summary = h.manager.summary();
        assert.equal(summary.connectors[0]?.overdrawing, true, 'still counted at what it draws');
        assert.deepEqual(summary.connectors[0]?.countedA, [32, 32, 32]);
        // Its set-point was never raised towards its draw.
        const flaggedAt = h.logged.findIndex((line) => /warn: charger CP-1\/1 draws 32.0 A/.test(line));
        assert.ok(flaggedAt >= 0);
        assert.ok(
          h.sentTo('CP-1/1').every((s) => s.limitA <= 6),
          h
            .sentTo('CP-1/1')
            .map((s) => s.limitA)
            .join(', '),
        );
      });
    }

    it('is trusted again only after its readings show it following for overdrawClearMs, and a relapse counts at once', () => {
      h = harness(zone);
      h.feed(() => h.meter('common', [10, 10, 10]));
      h.start();
      for (const i of [1, 2, 3]) h.plugIn(`CP-${i}/1`, {}, 'Charging');
      let rogue = true;
      h.feed(() => {
        const own = h.limit('CP-1/1') ?? 0;
        reading(h, 'CP-1/1', rogue ? [32, 32, 32] : [own, own, own]);
      });
      h.run(40_000);
      assert.equal(h.manager.summary().connectors[0]?.overdrawing, true);
      rogue = false;
      h.run(59_000);
      assert.equal(
        h.manager.summary().connectors[0]?.overdrawing,
        true,
        'one reading within the set-point is not enough',
      );
      h.run(2_000);
      assert.equal(h.manager.summary().connectors[0]?.overdrawing, undefined);
      assert.ok(h.logged.some((line) => /info: charger CP-1\/1 follows its set-point again/.test(line)));
      // A second overdraw in the same session: counted at its draw with its first reading.
      rogue = true;
      h.run(1_000);
      assert.equal(h.manager.summary().connectors[0]?.overdrawing, true, 'no second grace period');
      assert.deepEqual(h.manager.summary().connectors[0]?.countedA, [32, 32, 32]);
    });

    it('caught ignoring its limit twice in a session is not under control, says so, and a new car starts over', () => {
      h = harness(zone);
      h.feed(() => h.meter('common', [10, 10, 10]));
      h.start();
      for (const i of [1, 2, 3]) h.plugIn(`CP-${i}/1`, {}, 'Charging');
      let overA = 0;
      h.feed(() => {
        const own = h.limit('CP-1/1') ?? 0;
        const a = own + overA;
        h.draw('CP-1/1', [a, a, a]);
      });
      h.run(120_000);
      overA = 4;
      h.run(10_000);
      assert.equal(h.manager.summary().connectors[0]?.overdrawing, true);
      overA = 0;
      h.run(70_000);
      assert.equal(h.manager.summary().connectors[0]?.overdrawing, undefined, 'it followed for a minute');
      // The second time: not under control for the rest of the session, at what it may draw on its
      // own (its maximum, 32 A), not at the 4 A above its set-point it draws now.
      overA = 4;
      h.run(1_000);
      const second = h.manager.summary().connectors[0];
      assert.deepEqual(second?.countedA, [32, 32, 32]);
      assert.match(
        h.setPoint('CP-1/1')?.reason ?? '',
        /caught ignoring its limit twice this session \(\d+\.\d A at a set-point of \d+(\.\d)? A\): not under control, counted at its own fallback \(32 A\)/,
      );
      assert.ok(
        h.logged.some((l) =>
          /warn: charger CP-1\/1 draws .* the second time this session: not under control/.test(l),
        ),
      );
      // Following again does not bring it back in this session.
      overA = 0;
      h.run(120_000);
      assert.deepEqual(h.manager.summary().connectors[0]?.countedA, [32, 32, 32]);
      // A new car: a new session, under control again.
      h.plugIn('CP-1/1', {}, 'Charging');
      h.run(5_000);
      assert.doesNotMatch(h.setPoint('CP-1/1')?.reason ?? '', /caught ignoring/);
    });

    it('is not trusted again while paused: it starts again counted at what it drew (a pause shows nothing)', () => {
      h = harness(zone);
      h.feed(() => h.meter('common', [10, 10, 10]));
      h.start();
      for (const i of [1, 2, 3]) h.plugIn(`CP-${i}/1`, {}, 'Charging');
      // 3 A above whatever it is told, nothing when paused.
      h.feed(() => {
        const own = h.limit('CP-1/1') ?? 0;
        const a = own > 0 ? own + 3 : 0;
        h.draw('CP-1/1', [a, a, a]);
      });
      h.run(120_000);
      assert.equal(h.manager.summary().connectors[0]?.overdrawing, true);
      h.manager.command({ type: 'mode', chargePointId: 'CP-1', mode: 'off' });
      h.run(180_000);
      assert.equal(h.limit('CP-1/1'), 0);
      assert.equal(
        h.manager.summary().connectors[0]?.overdrawing,
        true,
        'three minutes at 0 A prove nothing',
      );
      h.manager.command({ type: 'mode', chargePointId: 'CP-1', mode: 'fast' });
      h.run(1_000);
      const limit = h.limit('CP-1/1') ?? 0;
      assert.ok(limit > 0);
      const counted = h.manager.summary().connectors[0]?.countedA ?? [0, 0, 0];
      assert.ok(
        counted.every((a) => a >= limit + 3),
        `started at ${limit} A, counted at ${counted.join('/')} A`,
      );
    });

    /**
     * CP-1 of three on the zone follows its limits 30 s after they go out where its follow time is
     * taken at 5 s (issue 45's car park, seed 500983: 7.5 s learned from one decrease), and its car
     * draws `alsoA()` on its own whatever it is given; caught above the pause of `mode: off`.
     */
    function slowFollowerCaughtAtPause(alsoA: () => number = () => 0): { applied: () => number } {
      h = harness({ ...zone, control: { decreaseSettleMs: 5_000 } });
      h.feed(() => h.meter('common', [10, 10, 10]));
      h.start();
      for (const i of [1, 2, 3]) h.plugIn(`CP-${i}/1`, {}, 'Charging');
      let target = 0;
      let applied = 0;
      let landsAt = 0;
      h.feed(() => {
        const own = h.limit('CP-1/1') ?? 0;
        if (own !== target) {
          target = own;
          landsAt = h.clock.now() + 30_000;
        }
        if (h.clock.now() >= landsAt) applied = target;
        const a = Math.max(applied, alsoA());
        h.draw('CP-1/1', [a, a, a]);
      });
      h.run(120_000);
      assert.ok(applied > 6, `drawing ${applied} A`);
      h.manager.command({ type: 'mode', chargePointId: 'CP-1', mode: 'off' });
      h.run(20_000);
      assert.equal(h.manager.summary().connectors[0]?.overdrawing, true, 'caught above its pause');
      return { applied: () => applied };
    }

    it("caught above a pause it was slow to follow: once its readings show nothing, it starts again at its car's minimum and is trusted once it follows (issue 45)", () => {
      // Its cap was that pause's 0 A, and a charger never raised above 0 A never shows it follows:
      // CP-05/1 waited 4.7 h, counted at 9 A, until its car left.
      const charger = slowFollowerCaughtAtPause();
      assert.ok(
        (h.manager.summary().connectors[0]?.countedA ?? []).every((a) => a > 6),
        'counted at what it drew',
      );
      h.run(100_000);
      assert.equal(charger.applied(), 0, 'it followed the pause');
      assert.deepEqual(
        h.manager.summary().connectors[0]?.countedA,
        [0, 0, 0],
        'counted at the nothing it draws',
      );
      h.manager.command({ type: 'mode', chargePointId: 'CP-1', mode: 'fast' });
      h.run(10_000);
      const limit = h.limit('CP-1/1') ?? 0;
      assert.ok(limit >= 6, `started again: ${limit} A`);
      assert.ok(limit <= 6, `not above its car's minimum before it follows: ${limit} A`);
      h.run(150_000);
      assert.equal(h.manager.summary().connectors[0]?.overdrawing, undefined, 'trusted once it follows');
      assert.ok((h.limit('CP-1/1') ?? 0) > limit, 'raised again');
    });

    it('let start after its pause showed nothing, caught above its pause again: held at 0 A, counted at what it draws', () => {
      // Its car rests while paused, then takes 9 A under the pause on its own.
      let rogueA = 0;
      slowFollowerCaughtAtPause(() => rogueA);
      h.run(100_000);
      assert.deepEqual(h.manager.summary().connectors[0]?.countedA, [0, 0, 0]);
      rogueA = 9;
      h.run(5_000);
      assert.ok(
        (h.manager.summary().connectors[0]?.countedA ?? []).every((a) => a >= 9),
        'counted at what it draws',
      );
      h.manager.command({ type: 'mode', chargePointId: 'CP-1', mode: 'fast' });
      h.run(10_000);
      assert.equal(
        h.limit('CP-1/1'),
        0,
        'a start beside the 9 A it draws under a pause would be no increase',
      );
    });
  });

  describe('1b. a charger above its set-point is believed at its first reading (issue #36)', () => {
    /** A and B on a 40 A line, B first; A reports every 10 s, B draws its set-point at once. */
    function line(control: Record<string, number> = {}) {
      h = harness({
        circuits: [{ id: 'line', limitA: 40 }],
        connectors: [
          { chargePointId: 'A', circuit: 'line' },
          { chargePointId: 'B', circuit: 'line' },
        ],
        unbalanceLimitA: null,
        control,
      });
      h.start();
      h.plugIn('A/1', {}, 'Charging');
      h.plugIn('B/1', {}, 'Charging');
      h.manager.command({ type: 'priority', chargePointId: 'B', priority: 10 });
      const car = { a: undefined as number | undefined };
      let elapsed = 0;
      h.feed(() => {
        elapsed += 1000;
        const a = car.a ?? h.limit('A/1') ?? 0;
        if (elapsed % 10_000 === 0) h.draw('A/1', [a, a, a]);
        const b = h.limit('B/1') ?? 0;
        h.draw('B/1', [b, b, b]);
      });
      h.run(180_000);
      return car;
    }

    it('accepts 8 A and draws 32 A: the line is over only until its next reading, the other reduced in that update (30 s before)', () => {
      const car = line();
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [8, 32]);
      car.a = 32;
      const physical = () => (car.a ?? 0) + (h.limit('B/1') ?? 0);
      const result = watch(h, 60, 40, physical);
      assert.equal(physical(), 40, `B at ${h.limit('B/1')} A`);
      assert.ok(result.over <= 10, `${result.over} s over 40 A (its reading interval is 10 s)`);
      assert.ok(h.logged.some((l) => /warn: charger A\/1 draws 32\.0 A, above its set-point 8 A/.test(l)));
    });

    it('has only its follow time to follow a decrease (its learned response time, here the start value)', () => {
      h = harness({
        circuits: [{ id: 'sub', limitA: 32 }],
        connectors: [
          { chargePointId: 'A', circuit: 'sub' },
          { chargePointId: 'B', circuit: 'sub' },
        ],
        unbalanceLimitA: null,
        control: { decreaseSettleMs: 15_000 },
      });
      h.start();
      h.plugIn('A/1', {}, 'Charging');
      h.plugIn('B/1', {}, 'Charging');
      let aA: number | undefined;
      h.feed(() => {
        const a = aA ?? h.limit('A/1') ?? 0;
        h.draw('A/1', [a, a, a]);
        const b = h.limit('B/1') ?? 0;
        h.draw('B/1', [b, b, b]);
      });
      h.run(120_000);
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [16, 16]);
      aA = 16;
      h.manager.command({ type: 'priority', chargePointId: 'B', priority: 10 });
      assert.equal(h.limit('A/1'), 6);
      h.run(14_000);
      assert.equal(h.manager.summary().connectors[0]?.overdrawing, undefined, 'still within its 15 s');
      h.run(2_000);
      assert.equal(h.manager.summary().connectors[0]?.overdrawing, true, 'past its 15 s: no further grace');
      assert.deepEqual(h.manager.summary().connectors[0]?.countedA, [16, 16, 16]);
    });

    it('a reading above its set-point within its follow time keeps it from being raised; excused only as what it drew before its first set-point, it is believed when that follow time is over', () => {
      // Found by the closed-loop property (PROPERTY_SEED=20261123 PROPERTY_PATH=1120 and four more
      // sites among its fixed cases): the only reading of a charger that ignores its limits, 16 A
      // within the follow time of the 0 A the idle charger was told at the start, was excused as
      // what it drew on its own; it was raised to 16 A on it, which it drew anyway; a later decrease
      // was taken as followed after its follow time, its current given to another car, and the
      // line carried 2 A too much until its next reading, 5 min after the first (180 s).
      h = harness({
        circuits: [{ id: 'line', limitA: 42 }],
        connectors: [
          { chargePointId: 'R', circuit: 'line', maxA: 16 },
          { chargePointId: 'B', circuit: 'line' },
        ],
        unbalanceLimitA: null,
      });
      h.start();
      h.run(15_000);
      // Its car and its first reading come together (one update); it reports every 5 min.
      h.manager.batch(() => {
        h.plugIn('R/1', {}, 'Charging');
        h.draw('R/1', [16, 16, 16]);
      });
      let elapsed = 0;
      h.feed(() => {
        elapsed += 1000;
        if (elapsed % 300_000 === 0) h.draw('R/1', [16, 16, 16]);
      });
      h.run(44_000);
      assert.equal(h.limit('R/1'), 6, 'started at its minimum, not raised');
      assert.match(h.setPoint('R/1')?.reason ?? '', /its reading showed more than its set-point/);
      assert.ok(!h.logged.some((l) => /warn: charger R\/1 draws/.test(l)), 'within the follow time of 0 A');
      // The follow time (60 s, the start value) of its first set-point is over: believed.
      h.run(1_000);
      assert.ok(h.logged.some((l) => /warn: charger R\/1 draws 16\.0 A, above its set-point 6 A/.test(l)));
      assert.deepEqual(h.manager.summary().connectors[0]?.countedA, [16, 16, 16]);
      h.plugIn('B/1', {}, 'Charging');
      h.obey('B/1');
      const result = watch(h, 600, 42, () => 16 + (h.limit('B/1') ?? 0));
      assert.equal(result.over, 0, `${result.over} s over 42 A, peak ${result.peak} A`);
      assert.ok(
        h.sentTo('R/1').every((s) => s.limitA <= 6),
        h
          .sentTo('R/1')
          .map((s) => s.limitA)
          .join(', '),
      );
    });
  });

  describe('2. other loads measured below a circuit without a meter (or with an otherLoadsOnly meter)', () => {
    it('counts the metered house below a meterless main: the chargers get what is left of 40 A', () => {
      for (const main of [
        { id: 'main', limitA: 40 },
        { id: 'main', limitA: 40, meter: { source: 'main-meter', location: 'otherLoadsOnly' as const } },
      ]) {
        h = harness({
          circuits: [
            main,
            {
              id: 'house',
              parent: 'main',
              limitA: 40,
              meter: { source: 'house-meter', location: 'otherLoadsOnly' },
            },
            { id: 'garage', parent: 'main', limitA: 32 },
          ],
          connectors: [
            { chargePointId: 'CP-1', circuit: 'garage' },
            { chargePointId: 'CP-2', circuit: 'garage' },
          ],
          unbalanceLimitA: null,
        });
        h.feed(() => {
          h.meter('house-meter', [24, 24, 24]);
          if (main.meter) h.meter('main-meter', [2, 2, 2]);
        });
        h.start();
        h.run(1000);
        h.plugIn('CP-1/1');
        h.plugIn('CP-2/1');
        h.run(300_000);
        const own = main.meter ? 2 : 0;
        const chargers = (h.limit('CP-1/1') ?? 0) + (h.limit('CP-2/1') ?? 0);
        assert.ok(24 + own + chargers <= 40, `main carries ${24 + own + chargers} A`);
        assert.deepEqual(h.manager.summary().circuits[0]?.otherA, [24 + own, 24 + own, 24 + own]);
        h.stop();
      }
    });

    it('warns where an otherLoadsOnly meter may see the loads of a metered circuit below it (counted twice)', () => {
      const result = validateSite({
        circuits: [
          { id: 'main', limitA: 63, meter: { source: 'grid', location: 'otherLoadsOnly' } },
          { id: 'sub', parent: 'main', limitA: 40 },
          { id: 'house', parent: 'sub', limitA: 40, meter: { source: 'house', location: 'otherLoadsOnly' } },
        ],
        connectors: [{ chargePointId: 'CP-1', circuit: 'sub' }],
      });
      assert.ok(result.site);
      assert.ok(
        result.warnings.some(
          (w) => w.field === 'circuit "main" meter.location' && /"house".*count twice/.test(w.message),
        ),
        JSON.stringify(result.warnings),
      );
    });
  });

  describe('3. values that are not numbers never remove a constraint', () => {
    it('refuses a siteLimit whose limitA is not one number or three numbers ≥ 0, naming the field', () => {
      h = harness({
        circuits: [{ id: 'main', limitA: 32 }],
        connectors: [{ chargePointId: 'A', circuit: 'main' }],
      });
      h.start();
      for (const [limitA, message] of [
        [[10], /siteLimit limitA: expected one number or three \[L1, L2, L3\], got \[10\]/],
        [[10, Number.NaN, 10], /siteLimit limitA: L2 NaN is not a number ≥ 0/],
        [[10, 10, -1], /siteLimit limitA: L3 -1 is not a number ≥ 0/],
        ['16', /siteLimit limitA: L1 "16" is not a number ≥ 0/],
      ] as const) {
        assert.throws(
          () => h.manager.command({ type: 'siteLimit', limitA: limitA as unknown as number }),
          message,
        );
      }
      assert.throws(
        () => h.manager.command({ type: 'siteLimit', chargersPowerLimitW: Number.NaN }),
        /siteLimit chargersPowerLimitW: NaN is not a number/,
      );
      assert.deepEqual(h.manager.summary().circuits[0]?.limitA, [32, 32, 32]);
      assert.equal(h.manager.summary().circuits[0]?.siteLimits, undefined);
    });

    it('takes a charger current that is not a number as not measured: a meter that includes the chargers keeps its constraint', () => {
      h = harness({
        circuits: [{ id: 'sub', limitA: 32, meter: { source: 'm', location: 'includesChargers' } }],
        connectors: [
          { chargePointId: 'A', circuit: 'sub' },
          { chargePointId: 'B', circuit: 'sub' },
        ],
        unbalanceLimitA: null,
      });
      h.feed(() => {
        const a = h.limit('A/1') ?? 0;
        const b = h.limit('B/1') ?? 0;
        reading(h, 'A/1', [Number.NaN, Number.NaN, Number.NaN]);
        h.draw('B/1', [b, b, b]);
        h.meter('m', [a + b, a + b, a + b]);
      });
      h.start();
      h.plugIn('A/1', {}, 'Charging');
      h.plugIn('B/1', {}, 'Charging');
      h.run(600_000);
      assert.ok((h.limit('A/1') ?? 0) + (h.limit('B/1') ?? 0) <= 32);
      assert.equal(
        h.logged.filter((l) => l.includes('reading from "A/1" currentA: L1 NaN is not a number')).length,
        1,
        'reported once, naming the input',
      );
    });

    it('refuses a pv command whose numbers are not numbers (a NaN surplus would charge pv cars from the grid)', () => {
      h = harness({
        circuits: [{ id: 'home', limitA: 35 }],
        connectors: [{ chargePointId: 'A', circuit: 'home' }],
      });
      h.start();
      assert.throws(
        () => h.manager.command({ type: 'pv', residualPowerW: 'abc' as unknown as number }),
        /pv residualPowerW: "abc" is not a number/,
      );
      assert.throws(
        () => h.manager.command({ type: 'pv', batteryPrioritySocPercent: 150 }),
        /pv batteryPrioritySocPercent: 150 is above 100/,
      );
    });

    it('allocate leaves no room under a capacity that is not a number, and checkAllocation reports it', () => {
      const problem: AllocationProblem = {
        voltageV: 230,
        stepA: 0.1,
        startMarginA: 1,
        pvBudgetW: Number.POSITIVE_INFINITY,
        circuits: [
          {
            capacityA: [Number.NaN, 32, 32],
            capacityW: Number.POSITIVE_INFINITY,
            chargersCapacityW: Number.POSITIVE_INFINITY,
            unbalanceLimitA: Number.POSITIVE_INFINITY,
          },
        ],
        connectors: [0, 1].map((k) => ({
          path: [0],
          wants: true,
          phases: k === 0 ? [0, 1, 2] : [1],
          minA: 6,
          maxA: 32,
          priority: 0,
          keepRank: k,
          keepOn: false,
          starting: true,
          floorA: [0, 0, 0],
          pv: false,
        })),
      };
      const allocation = allocate(problem);
      assert.equal(allocation.connectors[0]?.limitA, 0, 'loads L1, whose capacity is unknown');
      assert.equal(allocation.connectors[1]?.limitA, 32, 'L2 only');
      assert.deepEqual(
        checkAllocation(problem, [16, 16]).map((v) => [v.kind, v.phase]),
        [['phase', 0]],
      );
      const nanFloor = {
        ...problem,
        circuits: [{ ...(problem.circuits[0] as AllocationProblem['circuits'][0]), capacityA: [32, 32, 32] }],
        connectors: problem.connectors.map((d, k) => (k === 0 ? { ...d, floorA: [Number.NaN, 0, 0] } : d)),
      } as AllocationProblem;
      assert.equal(allocate(nanFloor).connectors[0]?.limitA, 0, 'a floor that is not a number fills L1');
      assert.ok(checkAllocation(nanFloor, [6, 0]).length > 0);
      assert.ok(checkAllocation(problem, [Number.NaN, 0]).length > 0, 'a limit that is not a number');
    });
  });

  describe('4. a car that keeps drawing on three phases after a switch to one', () => {
    it('is counted on every phase and at what it draws once the settle time is over, and is not switched again', () => {
      h = harness({
        circuits: [{ id: 'sub', limitA: 32, meter: { source: 'm', location: 'includesChargers' } }],
        connectors: [{ chargePointId: 'WB', circuit: 'sub', canSwitchPhases: true }],
        unbalanceLimitA: null,
      });
      // Other loads 0/28/28; the charger ignores numberPhases: the car draws its limit on L1-L3.
      let drawn = 0;
      h.feed(() => {
        h.draw('WB/1', [drawn, drawn, drawn], drawn > 0 ? 'Charging' : 'SuspendedEVSE');
        h.meter('m', [drawn, 28 + drawn, 28 + drawn]);
        drawn = h.limit('WB/1') ?? 0;
      });
      h.start();
      h.meter('m', [0, 28, 28]);
      h.plugIn('WB/1');
      const result = watch(h, 900, 32, () => 28 + drawn);
      const switchedAt = h.sentTo('WB/1').find((s) => s.phases === 1)?.atMs ?? 0;
      assert.ok(switchedAt > 0, 'it was switched to one phase');
      // Settle time 60 s, then the first reading: the excursion lasts the settle time and a step.
      assert.ok(result.over <= 62, `sub L2 above 32 A for ${result.over} s`);
      assert.equal(result.episodes, 1);
      assert.equal(h.limit('WB/1'), 0, 'three phases do not fit L2');
      assert.equal(h.setPoint('WB/1')?.phases, 3);
      assert.ok(
        h.logged.some((line) => /warn: charger WB\/1 still draws on its L2, L3 \d+ s after/.test(line)),
      );
      const phases = h.sentTo('WB/1').map((s) => s.phases);
      const switches = phases.filter((p, i) => i > 0 && p !== phases[i - 1]).length;
      assert.equal(switches, 2, 'down to one phase, back to three when it refused; no further switch');
    });
  });

  describe('5. single-phase detection', () => {
    const site: SiteConfig = {
      circuits: [{ id: 'sub', limitA: 32 }],
      connectors: [
        { chargePointId: 'A', circuit: 'sub' },
        { chargePointId: 'B', circuit: 'sub', phases: 1, phaseRotation: 'STR', maxA: 25 },
      ],
      unbalanceLimitA: null,
    };
    const phasesOf = (key: string) =>
      h.manager.summary().connectors.find((c) => `${c.chargePointId}/${c.connectorId}` === key)?.gridPhases;

    it('needs two readings at least phaseDetectionMs apart, not one reading that stays fresh', () => {
      h = harness(site);
      h.start();
      h.plugIn('B/1');
      h.feed(() => {
        const b = h.limit('B/1') ?? 0;
        h.draw('B/1', [b, 0, 0]);
      });
      h.run(300_000);
      h.plugIn('A/1');
      h.run(1_000);
      h.draw('A/1', [6, 0.5, 0.5]);
      h.run(59_000);
      assert.deepEqual(phasesOf('A/1'), [1, 2, 3], 'one reading only');
      assert.ok((h.limit('A/1') ?? 0) + (h.limit('B/1') ?? 0) <= 32, 'grid L2 holds');
      h.draw('A/1', [6, 0.4, 0.4]);
      assert.deepEqual(phasesOf('A/1'), [1], 'a second reading 59 s later confirms it');
    });

    it('counts a phase the charger does not measure (null, NaN) as used', () => {
      h = harness(site);
      h.start();
      h.plugIn('A/1');
      h.plugIn('B/1');
      h.feed(() => {
        h.draw('A/1', [h.limit('A/1') ?? 0, null, Number.NaN]);
        const b = h.limit('B/1') ?? 0;
        h.draw('B/1', [b, 0, 0]);
      });
      h.run(400_000);
      assert.deepEqual(phasesOf('A/1'), [1, 2, 3]);
      assert.ok((h.limit('A/1') ?? 0) + (h.limit('B/1') ?? 0) <= 32);
    });

    it("stamps a state's currents with its lastSeen: a repeated state is not a second reading, an old one is stale", () => {
      h = harness(site);
      h.start();
      h.plugIn('A/1', {}, 'Charging');
      const at = h.clock.now();
      h.state('A/1', { currentA: [16, 0, 0], energyWh: 100, lastSeen: new Date(at).toISOString() });
      h.run(40_000);
      // A StatusNotification 40 s later: same currents and energy, a newer lastSeen.
      h.state('A/1', { status: 'Charging', lastSeen: h.iso() });
      assert.deepEqual(phasesOf('A/1'), [1, 2, 3], 'the same measurement twice');
      h.state('A/1', { currentA: [16, 0, 0], energyWh: 300, lastSeen: h.iso() });
      assert.deepEqual(phasesOf('A/1'), [1], 'a new measurement (the energy moved) 40 s after the first');
      // A state measured long ago tells nothing about now.
      h.plugIn('B/1', {}, 'Charging');
      h.state('B/1', { currentA: [3, 0, 0], lastSeen: new Date(h.clock.now() - 200_000).toISOString() });
      h.run(60_000);
      assert.equal(h.manager.summary().connectors[1]?.drawA, undefined);
      assert.equal(h.manager.summary().connectors[1]?.underDrawing, undefined);
    });
  });

  describe('6. a replaced site', () => {
    it('keeps the site limits of the circuits it keeps (§14a), and logs each one it drops', () => {
      const site: SiteConfig = {
        circuits: [
          { id: 'home', limitA: 35 },
          { id: 'garage', parent: 'home', limitA: 32 },
        ],
        connectors: [{ chargePointId: 'A', circuit: 'home' }],
      };
      h = harness(site);
      h.start();
      h.plugIn('A/1', {}, 'Charging');
      h.manager.command({
        type: 'siteLimit',
        chargersPowerLimitW: 4200,
        durationMs: 3_600_000,
        reason: '§14a',
      });
      h.manager.command({ type: 'siteLimit', circuit: 'garage', limitA: 10, reason: 'tariff' });
      h.run(200_000);
      assert.equal(h.limit('A/1'), 6);
      h.manager.command({
        type: 'site',
        site: {
          circuits: [{ id: 'home', limitA: 35 }],
          connectors: [{ chargePointId: 'A', circuit: 'home' }],
        },
      });
      h.run(400_000);
      assert.ok((h.limit('A/1') ?? 0) * 3 * 230 <= 4200, `${h.limit('A/1')} A on three phases`);
      assert.match(h.setPoint('A/1')?.reason ?? '', /§14a on home/);
      assert.ok(
        h.logged.some((l) =>
          /warn: site limit on circuit "garage" dropped: the new site has no such circuit \(limitA 10\/10\/10 \(tariff\)\)/.test(
            l,
          ),
        ),
      );
    });
  });

  describe('7. partial meter readings', () => {
    it('keeps a phase a reading does not carry at its last value, and lets it go stale on its own', () => {
      h = harness({
        circuits: [{ id: 'sub', limitA: 63, meter: { source: 'm', location: 'otherLoadsOnly' } }],
        connectors: [{ chargePointId: 'A', circuit: 'sub' }],
        unbalanceLimitA: null,
      });
      h.start();
      h.meter('m', [5, 50, 5]);
      h.plugIn('A/1', {}, 'Charging');
      // The L2 register fails from now on; L1 and L3 keep coming.
      h.feed(() => h.meter('m', [5, null, 5]));
      let worst = 0;
      for (let s = 0; s < 400; s++) {
        h.run(1000);
        worst = Math.max(worst, 50 + (h.limit('A/1') ?? 0));
      }
      assert.ok(worst <= 63, `L2 would carry ${worst} A`);
      const summary = h.manager.summary();
      assert.deepEqual(summary.circuits[0]?.meter?.stalePhases, [2]);
      assert.match(
        h.setPoint('A/1')?.reason ?? '',
        // L2 read 50 A when it was last fresh, 7 minutes of learning: 50 A plus the 25 % margin.
        /fallback: meter "m" of sub: L2 stale \(\d+ s\), other loads counted at 62.5 A \(the most they drew in 7 min so far, plus a margin\), 6 A per connector/,
      );
    });

    it('does not spread a total power over the phases when something below the meter may generate', () => {
      for (const noGenerationBelow of [false, true]) {
        h = harness({
          circuits: [
            {
              id: 'home',
              limitA: 40,
              meter: { source: 'grid', location: 'otherLoadsOnly', noGenerationBelow },
              fallback: { otherLoadA: 30 },
            },
          ],
          connectors: [{ chargePointId: 'A', circuit: 'home', phases: 1 }],
          unbalanceLimitA: null,
        });
        h.start();
        // L1 imports 35 A while PV exports 20 A on each phase: the net total looks like an export.
        // (9.9 A beside 40 A: 30 A left with the 0.005 A a reading may hide, evidence/circuit-view.ts.)
        const totalPowerW = noGenerationBelow ? 9.9 * 230 : (35 - 60) * 230;
        h.feed(() => h.manager.reading({ source: 'grid', timestamp: h.iso(), totalPowerW }));
        h.plugIn('A/1', {}, 'Charging');
        h.run(400_000);
        if (noGenerationBelow) {
          assert.deepEqual(
            h.manager.summary().circuits[0]?.otherA,
            [9.9, 9.9, 9.9],
            'the whole total on each phase',
          );
          assert.equal(h.limit('A/1'), 30);
        } else {
          assert.equal(h.limit('A/1'), 10, 'the fallback: 40 − 30 A');
          assert.ok(h.logged.some((l) => /reading from "grid": only a total power/.test(l)));
        }
        h.stop();
      }
    });

    it('refuses a currents array that is not three values (L3 is not 0 A)', () => {
      h = harness({
        circuits: [{ id: 'main', limitA: 32, meter: { source: 'm', location: 'otherLoadsOnly' } }],
        connectors: [{ chargePointId: 'A', circuit: 'main', phases: 1, phaseRotation: 'TRS' }],
        unbalanceLimitA: null,
      });
      h.feed(() => reading(h, 'm', [1, 1]));
      h.start();
      h.plugIn('A/1', {}, 'Charging');
      h.run(300_000);
      assert.equal(
        h.limit('A/1'),
        0,
        'no current data ever: nothing is known of the other loads, the connector waits for a reading',
      );
      assert.match(h.setPoint('A/1')?.reason ?? '', /nothing is known of its other loads/);
      assert.ok(h.logged.some((l) => /reading from "m" currentA: expected three values/.test(l)));
    });
  });

  describe('8. decreases and increases in the same update', () => {
    it('sends decreases first', () => {
      h = harness({
        circuits: [
          { id: 'main', limitA: 100 },
          { id: 'x', parent: 'main', limitA: 32, meter: { source: 'x-meter', location: 'otherLoadsOnly' } },
          { id: 'y', parent: 'main', limitA: 32, meter: { source: 'y-meter', location: 'otherLoadsOnly' } },
        ],
        // C (on y) comes first in the configuration.
        connectors: [
          { chargePointId: 'C', circuit: 'y' },
          { chargePointId: 'A', circuit: 'x' },
        ],
        unbalanceLimitA: null,
        // Updates only on the readings (no periodic tick in between); the ramp's figures (a soft start).
        control: { tickMs: 3_600_000, softStart: true },
      });
      // (19.9 A: 12 A left beside them and the 0.005 A a reading may hide, evidence/circuit-view.ts.)
      let x = 0;
      let y = 19.9;
      h.feed(() =>
        h.manager.batch(() => {
          h.meter('x-meter', [x, x, x]);
          h.meter('y-meter', [y, y, y]);
        }),
      );
      h.start();
      h.plugIn('A/1');
      h.plugIn('C/1');
      h.run(200_000);
      assert.deepEqual([h.limit('A/1'), h.limit('C/1')], [32, 12]);
      // Both in one update: x's loads rise, y's fall (after 30 s of the ramp waiting).
      y = 0;
      h.run(30_000);
      const before = h.sent.length;
      x = 19.9;
      h.run(1_000);
      const burst = h.sent.slice(before).map((s) => `${s.chargePointId}=${s.limitA}`);
      assert.deepEqual(burst, ['A=12', 'C=27']);
    });

    it('where limits are confirmed, a low reading before the decrease is confirmed does not let the others rise', () => {
      // The race seen with peer chargers: an increase to A was on its way when the decrease
      // followed; A's reading, taken before either landed, was low, and the freed current went to
      // B while A then rose to the increase. Only a reading after the charger confirmed the
      // decrease (ConnectorState.limitInForce, from the charging-profile manager) shows it followed.
      h = carsAandBonSub();
      let aConfirms = true;
      let aDraws: number | undefined;
      const confirmed = new Map<string, number>();
      const report = (key: string, drawn: number, confirm: boolean) => {
        const limit = h.limit(key) ?? 0;
        if (confirm && confirmed.get(key) !== limit) {
          confirmed.set(key, limit);
          h.state(key, { limitInForce: { limitA: limit, since: h.iso(), confirmedAt: h.iso() } });
        }
        h.draw(key, [drawn, drawn, drawn]);
      };
      h.feed(() => {
        report('A/1', aDraws ?? h.limit('A/1') ?? 0, aConfirms);
        report('B/1', h.limit('B/1') ?? 0, true);
      });
      h.run(120_000);
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [16, 16]);
      // A's next command is not answered yet, and its car happens to draw 6 A.
      aConfirms = false;
      aDraws = 6;
      h.manager.command({ type: 'priority', chargePointId: 'B', priority: 10 });
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [6, 16], 'the decrease at once, the increase held');
      h.run(3_000);
      assert.equal(h.limit('B/1'), 16, 'a reading before the confirmation proves nothing');
      assert.match(h.setPoint('B/1')?.reason ?? '', /waiting for A\/1 to follow a decrease/);
      // A confirms its 6 A; the next reading after it lets B rise.
      aConfirms = true;
      const confirmedAt = h.clock.now() + 1_000;
      h.run(2_000);
      assert.equal(h.limit('B/1'), 26);
      const raisedAt = h.sentTo('B/1').find((s) => s.limitA === 26)?.atMs ?? 0;
      assert.ok(
        raisedAt - confirmedAt <= 1_000,
        `raised ${raisedAt - confirmedAt} ms after the confirmation`,
      );
      h.stop();
    });

    it('holds an increase that needs the current a decrease frees until the decreased charger follows (or decreaseSettleMs)', () => {
      for (const follows of [true, false]) {
        h = carsAandBonSub();
        // A follows its set-point 3 s late (or never reports); B follows at once.
        const lag: number[] = [];
        h.feed(() => {
          lag.push(h.limit('A/1') ?? 0);
          const a = lag.length > 3 ? (lag[lag.length - 4] ?? 0) : 0;
          if (follows) h.draw('A/1', [a, a, a]);
          const b = h.limit('B/1') ?? 0;
          h.draw('B/1', [b, b, b]);
        });
        h.run(120_000);
        assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [16, 16]);
        const decreasedAt = h.clock.now();
        h.manager.command({ type: 'priority', chargePointId: 'B', priority: 10 });
        assert.deepEqual(
          [h.limit('A/1'), h.limit('B/1')],
          [6, 16],
          'the decrease at once, the increase held',
        );
        h.run(1_000);
        assert.equal(h.limit('B/1'), 16);
        assert.match(h.setPoint('B/1')?.reason ?? '', /waiting for A\/1 to follow a decrease/);
        // Without a reading, A's follow time: 60 s for a charger never seen following a decrease.
        h.run(follows ? 3_000 : 59_000);
        assert.equal(h.limit('B/1'), 26);
        const raisedAt = h.sentTo('B/1').find((s) => s.limitA === 26)?.atMs ?? 0;
        assert.equal(raisedAt - decreasedAt, follows ? 4_000 : 60_000);
        h.stop();
      }
    });

    it('does not take a reading of the old current for a charger that followed a decrease no larger than the tolerance', () => {
      // Found by the closed-loop property (seed 425114719): 9.5 -> 8.6 A, and a reading of 9.5 A
      // taken before the charger reacted passed as "followed" (within overdrawToleranceA, 1 A), so
      // another charger's increase went out before the current was free.
      h = harness({
        circuits: [{ id: 'sub', limitA: 30 }],
        connectors: [
          { chargePointId: 'A', circuit: 'sub' },
          { chargePointId: 'B', circuit: 'sub' },
          { chargePointId: 'C', circuit: 'sub', maxA: 12 },
        ],
        control: { rampUpAPerS: 100, minUpdateIntervalMs: 1000 },
      });
      h.start();
      for (const key of ['A/1', 'B/1', 'C/1']) h.plugIn(key);
      // A follows its set-point 3 s late and reports every second; B and C follow at once.
      const lag: number[] = [];
      h.feed(() => {
        lag.push(h.limit('A/1') ?? 0);
        const a = lag.length > 3 ? (lag[lag.length - 4] ?? 0) : 0;
        h.draw('A/1', [a, a, a]);
        for (const key of ['B/1', 'C/1']) {
          const x = h.limit(key) ?? 0;
          h.draw(key, [x, x, x]);
        }
      });
      h.run(120_000);
      assert.deepEqual(['A/1', 'B/1', 'C/1'].map(h.limit), [10, 10, 10]);
      const decreasedAt = h.clock.now();
      h.manager.command({ type: 'priority', chargePointId: 'C', priority: 10 });
      assert.deepEqual(
        ['A/1', 'B/1', 'C/1'].map(h.limit),
        [9, 9, 10],
        'the decreases at once, the increase held',
      );
      h.run(2_000);
      assert.equal(h.limit('C/1'), 10, 'A still reads 10 A: it has not followed, whatever the tolerance');
      h.run(3_000);
      assert.equal(h.limit('C/1'), 12);
      const raisedAt = h.sentTo('C/1').find((s) => s.limitA === 12)?.atMs ?? 0;
      assert.equal(raisedAt - decreasedAt, 4_000, 'raised once A read 9 A');
    });

    it('ramps an increase from the last sent value, not from a change long ago', () => {
      h = harness({
        circuits: [{ id: 'zone', limitA: 32, meter: { source: 'zone-meter', location: 'otherLoadsOnly' } }],
        connectors: [{ chargePointId: 'A', circuit: 'zone' }],
        // The ramp (a soft start); into measured headroom a rise goes in one step (measured-headroom_spec.ts).
        control: { softStart: true },
      });
      // (19.9 A: 12 A left beside them and the 0.005 A a reading may hide, evidence/circuit-view.ts.)
      let other = 19.9;
      h.feed(() => h.meter('zone-meter', [other, other, other]));
      h.start();
      h.plugIn('A/1');
      h.run(600_000);
      assert.equal(h.limit('A/1'), 12);
      other = 0;
      h.run(1_000);
      assert.equal(h.limit('A/1'), 12, 'no jump of 20 A after a quiet period');
      h.run(29_000);
      assert.equal(h.limit('A/1'), 12);
      h.run(1_000);
      assert.equal(h.limit('A/1'), 27, '0.5 A/s × 30 s');
    });
  });

  describe('expressions and stop()', () => {
    it('raises nobody while the expressions re-evaluate after an input changed what they see', async () => {
      h = harness({
        circuits: [{ id: 'zone', limitA: 32, meter: { source: 'zone-meter', location: 'otherLoadsOnly' } }],
        connectors: [
          { chargePointId: 'A', circuit: 'zone', priority: '=socPercent < 50 ? 10 : 0' },
          { chargePointId: 'B', circuit: 'zone' },
        ],
        control: { rampUpAPerS: 100, minUpdateIntervalMs: 1000 },
        unbalanceLimitA: null,
      });
      // (11.9 A: 20 A left beside them and the 0.005 A a reading may hide, evidence/circuit-view.ts.)
      let other = 11.9;
      h.feed(() => {
        h.meter('zone-meter', [other, other, other]);
        const b = h.limit('B/1') ?? 0;
        reading(h, 'B/1', [b, b, b]);
      });
      h.start();
      h.plugIn('A/1', {}, 'Charging');
      h.plugIn('B/1', {}, 'Charging');
      h.state('A/1', { socPercent: 80 });
      await h.manager.settled();
      h.run(60_000);
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [10, 10]);
      // A's car reports 40 %: its priority becomes 10; at the same moment the other loads fall.
      other = 0;
      h.manager.batch(() => {
        h.state('A/1', { socPercent: 40 });
        h.meter('zone-meter', [0, 0, 0]);
      });
      h.run(5_000);
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [10, 10], 'the old priorities would give 16/16');
      assert.match(h.setPoint('B/1')?.reason ?? '', /waiting for the priority and mode expressions/);
      await h.manager.settled();
      h.run(2_000);
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [26, 6]);
    });

    it('emits nothing after stop(), and an error after an evaluation is logged, not an unhandled rejection', async () => {
      /** A car on A, suspended; A's mode expression switches it off once it charges. */
      const offOnceCharging = async () => {
        h = harness({
          circuits: [{ id: 'sub', limitA: 32 }],
          connectors: [{ chargePointId: 'A', circuit: 'sub', mode: "=status = 'Charging' ? 'off' : 'fast'" }],
        });
        h.start();
        h.plugIn('A/1', {}, 'SuspendedEVSE');
        await h.manager.settled();
      };
      await offOnceCharging();
      h.run(1000);
      const sent = h.sent.length;
      const summaries = h.summaries.length;
      h.state('A/1', { status: 'Charging' });
      h.manager.stop();
      await h.manager.settled();
      assert.equal(h.sent.length, sent);
      assert.equal(h.summaries.length, summaries);

      await offOnceCharging();
      h.manager.on('setPoint', () => {
        throw new Error('a listener failed');
      });
      h.state('A/1', { status: 'Charging' });
      await h.manager.settled();
      assert.ok(
        h.logged.some((l) =>
          /error: update after evaluating the expressions of A\/1 failed: a listener failed/.test(l),
        ),
      );
    });
  });

  describe('9. phase switches of a charger that must not find the phases full', () => {
    /**
     * A (switchable, RST) and B (one phase, on grid L2) on a sub-distribution without a meter whose
     * L2 carries only `l2A`. B is served first: L2 has no room for A's 3-phase minimum beside B's,
     * so A charges on one phase (L1). The chargers obey after `lagMs[key]` (A offering
     * `overOfferA` more than told), with their own meters every second; A's meter reads `noiseA`
     * on a phase that carries nothing (a current transformer's offset), the grid carries none of it.
     */
    function switchedDown(
      l2A: number,
      pv: SiteConfig['pv'],
      lagMs: Record<string, number>,
      overOfferA = 0,
      noiseA = 0,
    ) {
      h = harness({
        circuits: [{ id: 'sub', limitA: [32, l2A, 32] }],
        connectors: [
          { chargePointId: 'A', circuit: 'sub', canSwitchPhases: true, maxA: 16 },
          { chargePointId: 'B', circuit: 'sub', phases: 1, phaseRotation: 'STR', maxA: 16, priority: 10 },
        ],
        unbalanceLimitA: null,
        pv: { phaseSwitchDownDelayMs: 0, ...pv },
      });
      // What each charger offers now (limit, phases), following the set-points after its lag.
      const offered = new Map<string, { limitA: number; phases: number }>();
      const drawn = (key: string): PerPhase => {
        const now = offered.get(key);
        if (!now || now.limitA === 0) return [0, 0, 0];
        const a = Math.min(16, now.limitA + (key === 'A/1' ? overOfferA : 0));
        return key === 'B/1' ? [a, 0, 0] : now.phases === 1 ? [a, 0, 0] : [a, a, a];
      };
      h.feed(() => {
        for (const key of ['A/1', 'B/1']) {
          const due = h.sentTo(key).filter((s) => s.atMs <= h.clock.now() - (lagMs[key] ?? 1000));
          const last = due[due.length - 1];
          if (last) offered.set(key, { limitA: last.limitA, phases: last.phases });
          if (h.setPoint(key) === undefined) continue;
          const a = drawn(key);
          const charging = a.some((v) => (v ?? 0) > 0);
          const read = key === 'A/1' && charging ? (a.map((v) => v || noiseA) as PerPhase) : a;
          h.draw(key, read, charging ? 'Charging' : 'SuspendedEVSE');
        }
      });
      h.start();
      h.plugIn('B/1');
      h.plugIn('A/1');
      h.run(120_000);
      assert.equal(h.setPoint('A/1')?.phases, 1, 'A was switched to one phase');
      // (A's reading on L2, noise or not, is counted: B gets the rest.)
      assert.equal(h.limit('B/1'), Math.round((l2A - noiseA) * 10) / 10);
      // Grid L2 carries B's L1 and A's L2 (A is RST).
      return () => (drawn('B/1')[0] ?? 0) + (drawn('A/1')[1] ?? 0);
    }

    /** B is switched off; grid L2 (`gridL2()`) must stay within `limitA` for the next `seconds`. */
    function switchOffB(gridL2: () => number, seconds: number, limitA: number): void {
      h.manager.command({ type: 'mode', chargePointId: 'B', mode: 'off' });
      const result = watch(h, seconds, limitA, gridL2);
      assert.equal(result.over, 0, `grid L2 above ${limitA} A for ${result.over} s (peak ${result.peak} A)`);
    }

    it('does not switch up onto a phase another charger still draws on while its decrease is on its way', () => {
      // An integrator who wants switching without delay; B follows a decrease only after 8 s.
      const gridL2 = switchedDown(10, { phaseSwitchUpDelayMs: 0 }, { 'A/1': 1000, 'B/1': 8000 });
      switchOffB(gridL2, 120, 10);
      assert.equal(h.setPoint('A/1')?.phases, 3, 'A went back to three phases once B had followed');
      assert.equal(h.limit('B/1'), 0);
    });

    it('counts the excess of a charger that draws more than told on the phases it is switched up to', () => {
      // A offers 3 A more than told: after the grace it is counted at what it draws (9 A at 6 A) and
      // held at 6 A. B then stops: L2 has 8 A of room, enough for A's 3-phase minimum with its margin
      // (7 A) but not for what A draws on each phase at 6 A (9 A).
      const gridL2 = switchedDown(8, { phaseSwitchUpDelayMs: 0 }, { 'A/1': 1000, 'B/1': 1000 }, 3);
      assert.ok(
        h.logged.some((line) => /warn: charger A\/1 draws 9\.0 A, above its set-point 6 A/.test(line)),
        'A is known to overdraw',
      );
      switchOffB(gridL2, 300, 8);
      assert.equal(h.setPoint('A/1')?.phases, 1, 'A stays on one phase');
      assert.equal(h.limit('A/1'), 6);
    });

    it('counts that excess on the phases it is switched up to also when its meter reads a little on them', () => {
      // The same, but A's meter reads 0.3 A on the two phases it does not use: those phases did
      // not carry its excess, and after a switch up they will carry what it draws on L1.
      const gridL2 = switchedDown(8, { phaseSwitchUpDelayMs: 0 }, { 'A/1': 1000, 'B/1': 1000 }, 3, 0.3);
      switchOffB(gridL2, 300, 8);
      assert.equal(h.setPoint('A/1')?.phases, 1, 'A stays on one phase');
    });

    for (const noiseA of [0, 0.3]) {
      it(`counts that excess on the new phases from the moment it is switched up (its meter reads ${noiseA} A on the others)`, () => {
        // L2 has room for A's three phases with its excess once B stops (12 A): A goes up at once;
        // until its meter shows the new phases, it is counted on them at what it drew on L1.
        switchedDown(12, { phaseSwitchUpDelayMs: 0 }, { 'A/1': 1000, 'B/1': 1000 }, 3, noiseA);
        h.manager.command({ type: 'mode', chargePointId: 'B', mode: 'off' });
        for (let s = 0; s < 300 && h.setPoint('A/1')?.phases !== 3; s++) h.run(1000);
        assert.equal(h.setPoint('A/1')?.phases, 3, 'A was switched up');
        const a = h.manager.summary().connectors.find((c) => c.chargePointId === 'A');
        assert.deepEqual(a?.countedA, [9, 9, 9]);
      });
    }
  });

  describe('10. a circuit meter and the chargers below it report at different times', () => {
    it("does not take a charger's newer measurement of an increase away from the meter's older reading", () => {
      h = harness({
        circuits: [{ id: 'sub', limitA: 40, meter: { source: 'm', location: 'includesChargers' } }],
        connectors: [{ chargePointId: 'A', circuit: 'sub', maxA: 16 }],
        unbalanceLimitA: null,
        control: { rampUpAPerS: 100, minUpdateIntervalMs: 1000 },
      });
      h.start();
      // A first reading before the car: a meter never read leaves the connector waiting.
      h.meter('m', [10, 10, 10]);
      h.plugIn('A/1', {}, 'Charging');
      // Its reading a second after its start shows it follows (a start is not raised before).
      h.clock.advance(1_000);
      h.draw('A/1', [6, 6, 6]);
      h.meter('m', [16, 16, 16]);
      h.run(5_000);
      assert.equal(h.limit('A/1'), 16, 'A may take 16 A');
      assert.deepEqual(h.manager.summary().circuits[0]?.otherA, [10, 10, 10]);
      // A's meter shows it took the increase; the circuit meter's last reading is from before.
      h.draw('A/1', [16, 16, 16]);
      assert.deepEqual(
        h.manager.summary().circuits[0]?.otherA,
        [10, 10, 10],
        'the other loads are still 10 A: the meter read 16 A when A drew 6 A',
      );
      h.clock.advance(1_000);
      h.meter('m', [26, 26, 26]);
      assert.deepEqual(h.manager.summary().circuits[0]?.otherA, [10, 10, 10]);
    });
  });
});

/** Cars on chargers A and B, sharing a 32 A sub-distribution, ramping at 100 A/s once a second. */
function carsAandBonSub() {
  const h = harness({
    circuits: [{ id: 'sub', limitA: 32 }],
    connectors: [
      { chargePointId: 'A', circuit: 'sub' },
      { chargePointId: 'B', circuit: 'sub' },
    ],
    control: { rampUpAPerS: 100, minUpdateIntervalMs: 1000 },
  });
  h.start();
  h.plugIn('A/1');
  h.plugIn('B/1');
  return h;
}
