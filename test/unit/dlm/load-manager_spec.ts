import assert from 'node:assert/strict';
import { namesInShort } from '../../../lib/dlm/control/policy';
import type { ConnectorConfig, SiteConfig } from '../../../lib/dlm/site';
import { harness } from './support';

const zone = (connectors: number, extra: Partial<SiteConfig> = {}): SiteConfig => ({
  circuits: [{ id: 'zone', limitA: 32, meter: { source: 'zone-meter', location: 'otherLoadsOnly' } }],
  connectors: Array.from({ length: connectors }, (_, i) => ({
    chargePointId: `CP-${i + 1}`,
    circuit: 'zone',
  })),
  ...extra,
});

/** Chargers A and B, with the fields in `both`, on a zone of `limitA` without a meter; `b` adds fields to B. */
const pairZone = (
  limitA: number,
  both: Partial<ConnectorConfig> = {},
  b: Partial<ConnectorConfig> = {},
): SiteConfig => ({
  circuits: [{ id: 'zone', limitA }],
  connectors: [
    { chargePointId: 'A', circuit: 'zone', ...both },
    { chargePointId: 'B', circuit: 'zone', ...both, ...b },
  ],
});

describe('LoadManager', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  describe('coalesceInputs (large sites)', () => {
    /** Two cars charging at 16 A each on the 32 A zone, the other loads at 0 A. */
    function charging(coalesceInputs: boolean) {
      h = harness(zone(2), { coalesceInputs });
      h.feed(() => h.meter('zone-meter', [0, 0, 0]));
      h.start();
      h.plugIn('CP-1/1');
      h.plugIn('CP-2/1');
      h.obey('CP-1/1');
      h.obey('CP-2/1');
      h.run(120_000);
      assert.deepEqual([h.limit('CP-1/1'), h.limit('CP-2/1')], [16, 16]);
    }

    it('runs one update for the inputs of one turn; the decrease they call for goes out on the next turn', () => {
      charging(true);
      const before = h.manager.updateCount;
      for (let i = 0; i < 20; i++) h.meter('zone-meter', [19.9, 19.9, 19.9]);
      h.draw('CP-1/1', [16, 16, 16]);
      assert.equal(h.manager.updateCount, before, 'nothing yet: the inputs wait for the end of the turn');
      h.clock.advance(0);
      assert.equal(h.manager.updateCount, before + 1, '22 inputs, one update');
      assert.deepEqual(
        [h.limit('CP-1/1'), h.limit('CP-2/1')],
        [6, 6],
        '32 A - 19.9 A of other loads (less the 0.005 A its reading may hide: evidence/circuit-view.ts hiddenA), shared',
      );
    });

    it('is off by default: every input updates at once', () => {
      charging(false);
      const before = h.manager.updateCount;
      for (let i = 0; i < 20; i++) h.meter('zone-meter', [19.9, 19.9, 19.9]);
      assert.equal(h.manager.updateCount, before + 20);
      assert.deepEqual([h.limit('CP-1/1'), h.limit('CP-2/1')], [6, 6]);
    });

    it('runs no update for a state that only confirms a limit (or repeats the last one); the next input takes it along', () => {
      for (const coalesceInputs of [true, false]) {
        charging(coalesceInputs);
        h.clock.advance(0);
        const before = h.manager.updateCount;
        const limitInForce = { limitA: 16, since: h.iso(), confirmedAt: h.iso() };
        h.state('CP-1/1', { limitInForce });
        h.state('CP-2/1', { limitInForce });
        h.state('CP-2/1', {});
        h.clock.advance(0);
        assert.equal(h.manager.updateCount, before, `coalesceInputs ${coalesceInputs}`);
        // Anything else in a state is an input as before.
        h.state('CP-1/1', { limitInForce: { ...limitInForce, confirmedAt: h.iso() }, socPercent: 50 });
        h.clock.advance(0);
        assert.equal(h.manager.updateCount, before + 1, `coalesceInputs ${coalesceInputs}`);
        h.meter('zone-meter', [19.9, 19.9, 19.9]);
        h.clock.advance(0);
        assert.equal(h.manager.updateCount, before + 2);
        assert.deepEqual([h.limit('CP-1/1'), h.limit('CP-2/1')], [6, 6]);
        h.stop();
      }
    });

    it('runs no coalesced update after stop()', () => {
      charging(true);
      h.meter('zone-meter', [20, 20, 20]);
      h.stop();
      const before = h.manager.updateCount;
      h.clock.advance(1000);
      assert.equal(h.manager.updateCount, before);
    });
  });

  describe('sharing', () => {
    it('sends every connector a set-point at start: 0 for an idle one, with the reason', () => {
      h = harness(zone(2));
      h.state('CP-1/1', { status: 'Available' });
      h.state('CP-2/1', { status: 'Available' });
      h.start();
      assert.deepEqual(
        h.manager.setPoints().map((s) => [s.chargePointId, s.limitA, s.phases, s.reason]),
        [
          ['CP-1', 0, 3, 'idle: Available'],
          ['CP-2', 0, 3, 'idle: Available'],
        ],
      );
    });

    it('shares what the other loads leave equally, starting each car at its minimum, then ramping', () => {
      h = harness(zone(2));
      h.feed(() => h.meter('zone-meter', [10, 4, 4]));
      h.start();
      h.meter('zone-meter', [10, 4, 4]);
      h.plugIn('CP-1/1');
      h.plugIn('CP-2/1');
      assert.equal(h.limit('CP-1/1'), 6, 'a start begins at the minimum');
      assert.equal(h.limit('CP-2/1'), 6);
      h.run(29_000);
      assert.equal(h.limit('CP-1/1'), 6, 'no increase within the update interval');
      h.run(1_000);
      // L1 has 32 − 10 = 22 A for two cars, less the 0.005 A a reading to hundredths may hide.
      assert.equal(h.limit('CP-1/1'), 10.9);
      assert.equal(h.limit('CP-2/1'), 10.9);
      assert.match(h.setPoint('CP-1/1')?.reason ?? '', /limited: zone L1 is full/);
    });

    it('never gives a connector more than the operator’s backend allows, says so, and gives the rest to the others', () => {
      h = harness(zone(2));
      h.feed(() => h.meter('zone-meter', [10, 4, 4]));
      h.start();
      h.meter('zone-meter', [10, 4, 4]);
      h.plugIn('CP-1/1');
      h.plugIn('CP-2/1');
      h.state('CP-1/1', { operatorLimitA: 8 });
      h.run(60_000);
      assert.equal(h.limit('CP-1/1'), 8);
      assert.equal(
        h.limit('CP-2/1'),
        13.9,
        'L1 has 22 A (less what its reading may hide): the other car takes what CP-1 may not',
      );
      assert.match(h.setPoint('CP-1/1')?.reason ?? '', /the operator's backend allows 8 A/);
      h.state('CP-1/1', { operatorLimitA: 0 });
      assert.equal(h.limit('CP-1/1'), 0, 'a backend that pauses the car: at once');
      h.state('CP-1/1', { operatorLimitA: undefined });
      // After the pause's minimum off time (contactors), and the ramp.
      h.run(900_000);
      assert.equal(h.limit('CP-1/1'), 10.9, 'without the backend’s limit: its share again');
    });

    it('gives a car that cannot use its share the rest to the others (water-filling)', () => {
      h = harness({
        circuits: [{ id: 'zone', limitA: 40 }],
        connectors: [
          { chargePointId: 'CP-1', circuit: 'zone', maxA: 10 },
          { chargePointId: 'CP-2', circuit: 'zone', maxA: 32 },
        ],
      });
      h.start();
      h.plugIn('CP-1/1');
      h.plugIn('CP-2/1');
      h.run(90_000);
      assert.equal(h.limit('CP-1/1'), 10);
      assert.equal(h.limit('CP-2/1'), 30);
    });

    it('subtracts the chargers from a meter that includes them, but never more than they may draw', () => {
      h = harness({
        circuits: [{ id: 'main', limitA: 40, meter: { source: 'main-meter', location: 'includesChargers' } }],
        connectors: [{ chargePointId: 'CP-1', circuit: 'main' }],
      });
      h.start();
      h.plugIn('CP-1/1');
      // The meter sees 9.9 A of other loads plus what the car draws (it follows its set-point).
      h.feed(() => {
        const drawn = h.limit('CP-1/1') ?? 0;
        h.draw('CP-1/1', [drawn, drawn, drawn]);
        h.meter('main-meter', [9.9 + drawn, 9.9 + drawn, 9.9 + drawn]);
      });
      h.run(120_000);
      // 30 A left beside them and the 0.005 A a reading to hundredths may hide.
      assert.equal(h.limit('CP-1/1'), 30);
      assert.deepEqual(h.manager.summary().circuits[0]?.otherA, [9.9, 9.9, 9.9]);
      // A charger reading above its steady set-point within the tolerance (above it, it is counted
      // at what it draws) is its car's overshoot (evidence/overshoot.ts), subtracted up to that and
      // no more: the circuit keeps the overshoot back instead (allocation/from-update.ts), so what is
      // counted still adds up to the meter. (Subtracted only up to the set-point, the overshoot was
      // in the other loads at the set-points of the reading before, and a raise's was counted
      // nowhere: issue 45, test/unit/dlm/closed-loop-fixed/closed-loop-4601-83.json.)
      h.draw('CP-1/1', [30.8, 30.8, 30.8]);
      h.meter('main-meter', [40, 40, 40]);
      const summary = h.manager.summary();
      assert.deepEqual(summary.circuits[0]?.otherA, [9.2, 9.2, 9.2]);
      assert.ok((summary.connectors[0]?.overshootPercent ?? 0) >= 2.6, JSON.stringify(summary.connectors[0]));
    });
  });

  describe('phases', () => {
    const rotated: SiteConfig = {
      // The figures below are those of a soft start (the cars start at their minimum and ramp).
      control: { softStart: true },
      circuits: [{ id: 'sub', limitA: 16 }],
      connectors: [
        { chargePointId: 'A', circuit: 'sub', phaseRotation: 'RST', maxA: 16 },
        { chargePointId: 'B', circuit: 'sub', phaseRotation: 'STR', maxA: 16 },
        { chargePointId: 'C', circuit: 'sub', phaseRotation: 'TRS', maxA: 16 },
      ],
      unbalanceLimitA: null,
    };

    it('counts a single-phase car only on the grid phase its rotation puts it on, once it was seen for a while', () => {
      h = harness(rotated);
      h.start();
      for (const key of ['A/1', 'B/1', 'C/1']) {
        h.plugIn(key);
        h.obey(key, [1], 16);
      }
      // Until single-phase use is confirmed every car counts on all three phases: 16 A / 3 cars.
      h.run(5_000);
      assert.deepEqual(
        ['A/1', 'B/1', 'C/1'].map(
          (k) => h.manager.summary().connectors.find((c) => `${c.chargePointId}/1` === k)?.gridPhases,
        ),
        [
          [1, 2, 3],
          [1, 2, 3],
          [1, 2, 3],
        ],
      );
      h.run(120_000);
      // Then each loads one grid phase: A on L1, B (STR) on L2, C (TRS) on L3, each its full 16 A.
      const summary = h.manager.summary();
      assert.deepEqual(
        summary.connectors.map((c) => [c.chargePointId, c.gridPhases, c.limitA]),
        [
          ['A', [1], 16],
          ['B', [2], 16],
          ['C', [3], 16],
        ],
      );
      assert.deepEqual(summary.circuits[0]?.chargersA, [16, 16, 16]);
    });

    it('starts over with all phases when a new car arrives (new transaction), and adds a phase seen at once', () => {
      h = harness(rotated);
      h.start();
      h.plugIn('B/1');
      h.obey('B/1', [1], 16);
      h.run(60_000);
      assert.deepEqual(h.manager.summary().connectors[1]?.gridPhases, [2]);
      h.draw('B/1', [16, 10, 0]);
      assert.deepEqual(
        h.manager.summary().connectors[1]?.gridPhases,
        [2, 3],
        'a phase seen drawing counts at once',
      );
      h.unplug('B/1');
      h.plugIn('B/1');
      assert.deepEqual(h.manager.summary().connectors[1]?.gridPhases, [1, 2, 3]);
    });

    it('uses only the charger L1 of a connector wired with one phase', () => {
      h = harness({
        circuits: [{ id: 'sub', limitA: [10, 32, 32] }],
        connectors: [{ chargePointId: 'A', circuit: 'sub', phases: 1, phaseRotation: 'SRT', maxA: 32 }],
        unbalanceLimitA: null,
      });
      h.start();
      h.plugIn('A/1');
      h.run(120_000);
      assert.equal(h.limit('A/1'), 32, 'on grid L2 (SRT), not limited by the 10 A of L1');
      assert.equal(h.setPoint('A/1')?.phases, 1);
    });

    it('keeps the phase unbalance the single-phase cars cause within the limit', () => {
      h = harness({
        circuits: [{ id: 'main', limitA: 63 }],
        connectors: [
          { chargePointId: 'A', circuit: 'main', maxA: 32, phases: 1 },
          { chargePointId: 'B', circuit: 'main', maxA: 32, phases: 1 },
        ],
        unbalanceLimitA: 20,
      });
      h.start();
      h.plugIn('A/1');
      h.plugIn('B/1');
      h.run(300_000);
      // Both on L1: together at most 20 A above L2 and L3 (which carry nothing).
      assert.equal((h.limit('A/1') ?? 0) + (h.limit('B/1') ?? 0), 20);
      assert.match(h.setPoint('A/1')?.reason ?? '', /unbalance limit of main/);
    });
  });

  describe('update policy', () => {
    /**
     * CP-1/1 charging for two minutes in zone 1, beside other loads metered every turn at
     * `load.otherA` on each phase (change it to change them).
     */
    function chargingBeside(otherA: number): { otherA: number } {
      // The ramp is what these tests are about: a soft start (without, a rise into measured
      // headroom goes in one step: measured-headroom_spec.ts).
      h = harness(zone(1, { control: { softStart: true } }));
      h.start();
      h.meter('zone-meter', [otherA, otherA, otherA]);
      h.plugIn('CP-1/1');
      const load = { otherA };
      h.feed(() => h.meter('zone-meter', [load.otherA, load.otherA, load.otherA]));
      h.run(120_000);
      return load;
    }

    it('decreases at once when the other loads rise, increases only after the interval and ramped', () => {
      const load = chargingBeside(0);
      assert.equal(h.limit('CP-1/1'), 32);
      // 12 A left beside them and the 0.005 A a reading to hundredths may hide.
      load.otherA = 19.9;
      h.run(1_000);
      assert.equal(h.limit('CP-1/1'), 12, 'the decrease went out within a second');
      load.otherA = 0;
      h.run(29_000);
      assert.equal(h.limit('CP-1/1'), 12, 'no increase within 30 s of the last change');
      // The ramp starts at the last sent value when the increase became possible (1 s after the
      // decrease, with the next reading): 0.5 A/s × 30 s.
      h.run(1_000);
      assert.equal(h.limit('CP-1/1'), 12, 'the ramp has run for 29 s only');
      h.run(1_000);
      assert.equal(h.limit('CP-1/1'), 27, 'ramped: 0.5 A/s × 30 s');
      h.run(30_000);
      assert.equal(h.limit('CP-1/1'), 32);
    });

    it('sends even a small decrease at once when the circuit needs it', () => {
      const load = chargingBeside(9.9);
      assert.equal(h.limit('CP-1/1'), 22, '22 A left beside the other loads and what their reading may hide');
      load.otherA = 10.4;
      h.run(1_000);
      assert.equal(h.limit('CP-1/1'), 21.5);
    });

    it('does not send the same set-point twice, and sends again when a charger comes back online', () => {
      h = harness(zone(1));
      h.start();
      h.meter('zone-meter', [0, 0, 0]);
      h.state('CP-1/1', { status: 'Available' });
      const before = h.sentTo('CP-1/1').length;
      h.run(10_000);
      h.meter('zone-meter', [0, 0, 0]);
      assert.equal(h.sentTo('CP-1/1').length, before);
      h.state('CP-1/1', { online: false });
      h.state('CP-1/1', { online: true });
      assert.equal(h.sentTo('CP-1/1').length, before + 1);
    });
  });

  describe('minimum rule and shedding', () => {
    const tight = (shedding: 'firstStarted' | 'mostEnergyFirst'): SiteConfig => ({
      circuits: [{ id: 'zone', limitA: 14 }],
      connectors: ['A', 'B', 'C'].map((id) => ({ chargePointId: id, circuit: 'zone' })),
      shedding,
    });

    it('pauses rather than going below the minimum, keeping the earliest-started sessions (firstStarted)', () => {
      h = harness(tight('firstStarted'));
      h.start();
      h.plugIn('A/1');
      h.clock.advance(1000);
      h.plugIn('B/1');
      h.clock.advance(1000);
      h.plugIn('C/1');
      h.run(120_000);
      assert.deepEqual(
        ['A/1', 'B/1', 'C/1'].map((k) => h.limit(k)),
        [7, 7, 0],
      );
      assert.match(h.setPoint('C/1')?.reason ?? '', /paused: zone L1 is full for the minimum 6 A/);
      for (const limit of h.sent.map((s) => s.limitA))
        assert.ok(limit === 0 || limit >= 6, `${limit} A was sent`);
    });

    it('pauses the session with the most energy (mostEnergyFirst), with hysteresis against swapping back', () => {
      h = harness(tight('mostEnergyFirst'));
      h.start();
      h.plugIn('A/1');
      h.plugIn('B/1');
      h.state('A/1', { energyWh: 9000 });
      h.state('B/1', { energyWh: 1000 });
      h.run(180_000);
      h.plugIn('C/1');
      h.state('C/1', { energyWh: 0 });
      h.run(180_000);
      assert.deepEqual(
        ['A/1', 'B/1', 'C/1'].map((k) => h.limit(k)),
        [0, 7, 7],
      );
      assert.match(h.setPoint('A/1')?.reason ?? '', /paused/);
    });

    /** Pauses A/1 three times with a 10 A peak on a 12 A zone, charging `chargeMs` after each restart; the pauses, s. */
    const pausesAfterCharges = (chargeMs: number): number[] => {
      h = harness({
        circuits: [{ id: 'zone', limitA: 12, meter: { source: 'zone-meter', location: 'otherLoadsOnly' } }],
        connectors: [{ chargePointId: 'A', circuit: 'zone' }],
      });
      h.start();
      let other = 0;
      h.feed(() => h.meter('zone-meter', [other, other, other]));
      h.meter('zone-meter', [0, 0, 0]);
      h.plugIn('A/1');
      h.run(180_000);
      assert.ok((h.limit('A/1') ?? 0) >= 6);
      for (let i = 0; i < 3; i++) {
        other = 10; // a peak that leaves less than the minimum
        h.run(2_000);
        assert.equal(h.limit('A/1'), 0);
        other = 0;
        while (h.limit('A/1') === 0) h.run(1_000);
        h.run(chargeMs);
      }
      const sent = h.sentTo('A/1').slice(1);
      return sent.flatMap((s, i) =>
        s.limitA === 0 && sent[i + 1] ? [((sent[i + 1]?.atMs ?? 0) - s.atMs) / 1000] : [],
      );
    };

    it('keeps a paused connector paused for the minimum off time, the same after each charge of 10 min or more', () => {
      assert.deepEqual(pausesAfterCharges(11 * 60_000), [30, 30, 30]);
    });

    it('doubles the minimum off time after each pause that follows a charge shorter than 10 min', () => {
      // A peak that keeps coming back: 30, 60, 120 s, so it does not switch the contactor every
      // few minutes.
      assert.deepEqual(pausesAfterCharges(150_000), [30, 60, 120]);
    });

    it('keeps a connector inside its minimum on time charging ahead of a higher priority that arrives later', () => {
      h = harness(pairZone(10, {}, { priority: 5 }));
      h.start();
      h.plugIn('A/1');
      h.run(30_000);
      h.plugIn('B/1');
      assert.equal(h.limit('A/1'), 10);
      assert.equal(h.limit('B/1'), 0);
      h.run(95_000);
      assert.equal(h.limit('A/1'), 0, 'after its 2 minutes the higher priority takes over');
      // A's charger has not shown that it stopped: B starts when it does, or once A's follow time
      // has passed since the pause (60 s: A was never seen following a decrease, evidence/response-time.ts).
      assert.equal(h.limit('B/1'), 0);
      assert.match(h.setPoint('B/1')?.reason ?? '', /waiting for A\/1 to follow a decrease/);
      h.run(50_000);
      assert.equal(h.limit('B/1'), 0);
      h.run(10_000);
      assert.equal(h.limit('B/1'), 6);
    });

    it('serves the higher priority (an id tag VIP flag) before equal shares', () => {
      h = harness(pairZone(30, { maxA: 32 }));
      h.start();
      h.plugIn('A/1');
      h.plugIn('B/1', { priority: 1 });
      h.run(180_000);
      assert.equal(h.limit('A/1'), 6, 'the lower priority keeps its minimum');
      assert.equal(h.limit('B/1'), 24);
    });
  });

  describe('fail-safe', () => {
    const withFallback = (fallback: object): SiteConfig => ({
      circuits: [
        {
          id: 'zone',
          limitA: 32,
          meter: { source: 'zone-meter', location: 'otherLoadsOnly', staleAfterMs: 10_000 },
          fallback,
        },
      ],
      connectors: ['A', 'B'].map((id) => ({ chargePointId: id, circuit: 'zone' })),
    });

    it('counts the configured other load while the meter is stale, says why, and ramps back when it returns', () => {
      h = harness(withFallback({ otherLoadA: 20 }));
      h.start();
      let meterOn = true;
      h.feed(() => meterOn && h.meter('zone-meter', [1.9, 1.9, 1.9]));
      h.plugIn('A/1');
      h.plugIn('B/1');
      h.run(120_000);
      assert.equal(h.limit('A/1'), 15);
      meterOn = false;
      h.run(10_000);
      assert.equal(h.limit('A/1'), 15, 'not yet stale');
      h.run(1_000);
      assert.equal(h.limit('A/1'), 6, '(32 − 20) / 2');
      assert.match(
        h.setPoint('A/1')?.reason ?? '',
        /^fallback: meter "zone-meter" of zone is stale \(11 s\), other loads taken as 20\/20\/20 A/,
      );
      const summary = h.manager.summary();
      assert.equal(summary.circuits[0]?.meter?.stale, true);
      assert.ok(summary.problems.some((p) => p.includes('stale')));
      meterOn = true;
      h.run(1_000);
      assert.equal(h.limit('A/1'), 6, 'the recovery goes through the ramp');
      h.run(30_000);
      assert.equal(h.limit('A/1'), 15);
    });

    it('gives each connector at most the per-connector fallback (Climkit: 6 A), never "no limit"', () => {
      h = harness(withFallback({ connectorLimitA: 6 }));
      h.start();
      h.plugIn('A/1');
      h.plugIn('B/1');
      h.run(120_000);
      assert.deepEqual(
        [h.limit('A/1'), h.limit('B/1')],
        [0, 0],
        'a meter that never sent anything: nothing is known of the other loads, the connectors wait',
      );
      assert.match(
        h.setPoint('A/1')?.reason ?? '',
        /no reading yet from meter "zone-meter" of zone, nothing is known of its other loads: its connectors wait for a reading, 6 A per connector/,
      );
      assert.ok(
        h.logged.some((line) => /^warn: zone: fallback: no reading yet from meter "zone-meter"/.test(line)),
        'and a log line says so',
      );
      const first = h.logged.findIndex((line) => /zone: /.test(line));
      assert.match(
        h.logged[first] ?? JSON.stringify(h.logged),
        /^info: zone: waiting for the first reading; meanwhile fallback: no reading yet/,
        'right after start the silence is normal start-up (information), the warning comes after staleAfterMs',
      );
      // Once read, a meter that goes silent: the other loads at the most it showed, 6 A each.
      h.meter('zone-meter', [10, 10, 10]);
      h.run(120_000);
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [6, 6], 'never "no limit"');
      assert.match(
        h.setPoint('A/1')?.reason ?? '',
        /other loads counted at 12.5\/12.5\/12.5 A .*6 A per connector/,
      );
      // The fail-safe is said once: the sidebar read "fallback: …; fallback: …" for a charging car.
      h.plugIn('A/1');
      h.run(60_000);
      const reason = h.setPoint('A/1')?.reason ?? '';
      assert.equal(reason.split('fallback:').length, 2, reason);
      assert.match(reason, /; held at the fail-safe's 6 A per connector$/);
    });

    it('counts a connector it cannot control (offline, or not reported yet) at its offline current', () => {
      h = harness(pairZone(40, {}, { offlineA: 16 }));
      h.plugIn('A/1');
      h.manager.start(); // B never reported
      h.run(120_000);
      assert.equal(h.limit('A/1'), 24, 'B has not reported: 16 A counted');
      assert.match(h.setPoint('B/1')?.reason ?? '', /unknown state: counted at 16 A/);
      h.state('B/1', { status: 'Available' });
      h.run(31_000);
      assert.equal(h.limit('A/1'), 32);
      h.state('B/1', { online: false });
      assert.equal(h.limit('A/1'), 24, 'offline again: a decrease at once');
    });
  });

  describe('chargers and cars that do not follow', () => {
    it('counts a charger that draws above its set-point at its draw, reports it, and reduces the others', () => {
      h = harness(pairZone(32));
      h.start();
      h.plugIn('A/1');
      h.plugIn('B/1');
      h.run(120_000);
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [16, 16]);
      h.feed(() => h.draw('A/1', [25, 25, 25]));
      // Believed at its first reading: its set-point has not changed for 100 s, so it is not
      // following one (no grace beyond its follow time).
      h.run(1_000);
      assert.equal(h.limit('B/1'), 7, '32 − 25 counted for A, the others reduced in the same update');
      const summary = h.manager.summary();
      assert.equal(summary.connectors[0]?.overdrawing, true);
      assert.ok(summary.problems.some((p) => /charger A\/1 draws above its set-point/.test(p)));
      assert.ok(h.logged.some((line) => /warn: charger A\/1 draws 25.0 A, above its set-point/.test(line)));
    });

    it('lowers the set-point of a car that draws well below it to its draw + 1 A and gives the rest to others', () => {
      // Its figures are those of the ramp (B's rise into what A leaves is ramped).
      h = harness({ ...pairZone(40), control: { softStart: true } });
      h.start();
      h.plugIn('A/1');
      h.plugIn('B/1');
      h.obey('A/1', [1, 2, 3], 10); // a car that takes at most 10 A
      h.obey('B/1');
      h.run(85_000);
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [20, 20]);
      // 60 s after its set-point rose to 20 A it still draws 10 A.
      h.run(6_000);
      assert.equal(h.limit('A/1'), 11);
      assert.match(h.setPoint('A/1')?.reason ?? '', /car draws 10.0 A/);
      // B's increase is ramped from the moment it became possible: 9 A at 0.5 A/s.
      h.run(20_000);
      assert.equal(h.limit('B/1'), 29);
      const loweredAt = h.sentTo('A/1').find((s) => s.limitA === 11)?.atMs ?? 0;
      const raisedAt = h.sentTo('B/1').find((s) => s.limitA === 29)?.atMs ?? 0;
      assert.equal(raisedAt - loweredAt, 18_000);
      assert.equal(h.manager.summary().connectors[0]?.underDrawing, true);
    });

    it('keeps waiting through a decrease once its car showed it takes less than it is offered', () => {
      // Waiting 2 min: its first reading a follow time (60 s) after its raise shows its car below
      // 32 A; B's arrival lowers it to 20 A, still above what its car takes.
      h = harness({ ...pairZone(40), control: { underDrawAfterMs: 120_000 } });
      h.start();
      h.plugIn('A/1');
      h.obey('A/1', [1, 2, 3], 10); // a car that takes at most 10 A
      h.run(2_000);
      assert.equal(h.limit('A/1'), 32);
      const raisedAt = h.clock.now() - 1_000;
      h.run(78_000);
      h.plugIn('B/1');
      h.obey('B/1');
      h.run(1_000);
      assert.equal(h.limit('A/1'), 20, 'B came: A lowered to its share');
      // 2 min after its car first drew 10 A under 32 A, not 2 min after the decrease (issue 45: a
      // car that takes 8 A waited through nine changes, counted at up to 26.8 A for 3.5 min).
      h.run(41_000);
      assert.equal(h.limit('A/1'), 11);
      const cappedAt = h.sentTo('A/1').find((s) => s.limitA === 11)?.atMs ?? 0;
      assert.ok(cappedAt - raisedAt <= 122_000, `capped ${cappedAt - raisedAt} ms after its raise`);
    });

    it('gives a slow charger its follow time after a raise before it takes its car for one that takes less', () => {
      // A charger that follows a change 50 s after it and reports every 40 s (issue 45's home
      // layout, seed 760867: one at 56 s, read every 40 s, was capped at its old set-point).
      h = harness(pairZone(40));
      h.start();
      h.plugIn('A/1');
      let tick = 0;
      h.feed(() => {
        tick++;
        if (tick % 40 !== 0) return;
        const then = h.clock.now() - 50_000;
        const amps =
          h
            .sentTo('A/1')
            .filter((s) => s.atMs <= then)
            .at(-1)?.limitA ?? 0;
        h.state('A/1', { status: amps > 0 ? 'Charging' : 'SuspendedEVSE', currentA: [amps, amps, amps] });
      });
      h.plugIn('B/1');
      h.obey('B/1');
      h.run(200_000);
      assert.equal(h.limit('A/1'), 20);
      h.unplug('B/1');
      h.run(200_000);
      assert.deepEqual(
        h.sentTo('A/1').map((s) => s.limitA),
        [0, 6, 20, 32],
        'raised to 32 A once B left, and never taken for a car that takes 20 A',
      );
      assert.ok(!h.manager.summary().connectors[0]?.underDrawing);
    });
  });

  describe('commands', () => {
    it('mode off pauses a connector; null gives the configured mode back', () => {
      h = harness(zone(1));
      h.start();
      h.feed(() => h.meter('zone-meter', [0, 0, 0]));
      h.meter('zone-meter', [0, 0, 0]);
      h.plugIn('CP-1/1');
      h.run(60_000);
      h.manager.command({ type: 'mode', chargePointId: 'CP-1', mode: 'off' });
      assert.equal(h.limit('CP-1/1'), 0);
      assert.equal(h.setPoint('CP-1/1')?.reason, 'off: mode off');
      h.manager.command({ type: 'mode', chargePointId: 'CP-1', mode: null });
      assert.equal(h.limit('CP-1/1'), 6);
      assert.throws(
        () => h.manager.command({ type: 'mode', chargePointId: 'CP-9', mode: 'fast' }),
        /no connector CP-9/,
      );
    });

    it('sends the summary after a command at once, even when no set-point changed (the page that sent it shows it)', () => {
      h = harness(zone(1));
      h.start();
      h.feed(() => h.meter('zone-meter', [0, 0, 0]));
      h.plugIn('CP-1/1');
      h.run(120_000); // past the steps up: nothing changes for a while
      const before = h.summaries.length;
      h.manager.command({ type: 'priority', chargePointId: 'CP-1', priority: 5 });
      assert.equal(h.summaries.length, before + 1, 'one summary now, not within 10 s');
      assert.equal(h.summaries.at(-1)?.connectors[0]?.priority, 5);
      h.run(9000);
      assert.equal(h.summaries.length, before + 1, 'then the next one 10 s after it');
      h.run(1000);
      assert.equal(h.summaries.length, before + 2);
    });

    it('applies a site limit (e.g. §14a) until it expires', () => {
      h = harness({
        circuits: [{ id: 'main', limitA: 63 }],
        connectors: ['A', 'B'].map((id) => ({ chargePointId: id, circuit: 'main', maxA: 32 })),
        // The rise after the limit expires is ramped (its figures are a soft start's).
        control: { softStart: true },
      });
      h.start();
      h.plugIn('A/1');
      h.plugIn('B/1');
      h.run(120_000);
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [31.5, 31.5]);
      const result = h.manager.command({
        type: 'siteLimit',
        chargersPowerLimitW: 8400,
        durationMs: 600_000,
        reason: '§14a',
      });
      assert.match(result, /site limit on main until/);
      // 8.4 kW over two three-phase cars: 8400 / 230 / 3 / 2 = 6.08 A each.
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [6, 6]);
      assert.match(h.setPoint('A/1')?.reason ?? '', /limited: §14a on main/);
      h.run(600_000);
      h.run(60_000);
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [31.5, 31.5]);
    });
  });

  describe('expressions', () => {
    it('evaluates priorities written in JSONata over the connector state (VIP id tags first)', async () => {
      h = harness(pairZone(30, { priority: "=idTag = 'VIP-1' ? 10 : 0" }));
      h.start();
      h.plugIn('A/1');
      h.plugIn('B/1', { idTag: 'VIP-1' });
      await h.manager.settled();
      h.run(180_000);
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [6, 24]);
      assert.equal(h.manager.summary().connectors[1]?.priority, 10);
    });

    it('falls back to the default when an expression fails and reports it once, naming connector and expression', async () => {
      h = harness({
        circuits: [{ id: 'zone', limitA: 30 }],
        connectors: [{ chargePointId: 'A', circuit: 'zone', mode: '=$number("x")' }],
      });
      h.start();
      h.plugIn('A/1');
      await h.manager.settled();
      h.run(120_000);
      await h.manager.settled();
      h.run(120_000);
      await h.manager.settled();
      const warnings = h.logged.filter((line) => line.startsWith('warn: connector A/1: mode expression'));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? '', /\$number\("x"\)/);
      assert.equal(h.limit('A/1'), 30, 'the default mode (fast)');
      assert.ok(h.manager.summary().problems.some((p) => p.includes('mode expression')));
    });
  });
});

describe('reasons a person reads', () => {
  it('name at most three connectors a held increase waits for, and how many more (a reason per connector grew with the site)', () => {
    assert.equal(namesInShort(['A/1']), 'A/1');
    assert.equal(namesInShort(['A/1', 'B/1', 'C/1']), 'A/1, B/1, C/1');
    assert.equal(namesInShort(['A/1', 'B/1', 'C/1', 'D/1', 'E/1']), 'A/1, B/1, C/1 and 2 more');
  });
});
