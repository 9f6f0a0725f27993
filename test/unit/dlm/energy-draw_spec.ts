/**
 * A charger that reports its energy register only (issue 45, item 3): its draw is derived from the
 * register's deltas (lib/dlm/evidence/energy-draw.ts) and used as draw evidence: what it is counted
 * at, overdraw, and what a meter that counts it subtracts. Before, such a charger had no draw at all.
 */
import assert from 'node:assert/strict';
import {
  type EnergyDraw,
  notePhasesShow,
  type RegisterRecord,
  registerDraw,
} from '../../../lib/dlm/evidence/energy-draw';
import type { Logger } from '../../../lib/log';
import { harness } from './support';

/** Wh a car drawing `amps` on each of `phases` phases at 230 V takes in `ms`. */
const whOf = (amps: number, phases: number, ms: number) => (amps * phases * 230 * ms) / 3_600_000;

/** A 63 A zone with one 32 A charger E: its site and connector. */
function zoneOfE() {
  const h = harness({
    circuits: [{ id: 'zone', limitA: 63 }],
    connectors: [{ chargePointId: 'E', circuit: 'zone', maxA: 32 }],
  });
  const site = h.manager.site;
  const connector = site.connectors[0];
  assert.ok(connector);
  return { site, connector };
}

describe('dlm: a charger measured by its energy register', () => {
  describe('registerDraw', () => {
    const { site, connector } = zoneOfE();
    const warned: string[] = [];
    const logger: Logger = { info: () => undefined, warn: (m) => warned.push(m), error: () => undefined };
    const at = (record: { register?: RegisterRecord }, wh: number, atMs: number, key = 'tx:1') =>
      registerDraw(site, connector, record, { wh, atMs, key }, undefined, logger);
    const round = (draw: EnergyDraw | undefined) => ({
      most: draw?.mostA.map((a) => Math.round((a ?? 0) * 100) / 100),
      least: draw?.leastA.map((a) => Math.round((a ?? 0) * 100) / 100),
    });

    it('26 A on three phases over 5 s in whole Wh: counted at 26 A or more (not 78 A on one phase), judged at the least', () => {
      const record = {};
      assert.equal(at(record, 1000, 0), undefined, 'the first reading gives no delta');
      const draw = at(record, 1000 + Math.floor(whOf(26, 3, 5000)), 5000);
      const { most, least } = round(draw);
      assert.deepEqual(most, [26.09, 26.09, 26.09], 'one Wh more than the delta: the register rounds down');
      assert.deepEqual(least, [24, 24, 24]);
      assert.equal(draw?.fromMs, 0);
      assert.equal(draw?.atMs, 5000);
    });

    it('after the first delta, each spans at least 10 s: a charger read every 5 s still gives one every 5 s, and a reading seconds after another is read over the interval before it too', () => {
      // A car at 15.4 A on three phases (10.63 Wh/s): over 5 s whole Wh put it anywhere between
      // 14.6 and 16.2 A, and a delta of 5 s read it 0.8 A low (issue 45's home day, seed 500983).
      const whAt = (ms: number) => 1000 + Math.floor(whOf(15.4, 3, ms));
      const record = {};
      at(record, whAt(0), 0);
      assert.equal(at(record, whAt(5000), 5000)?.fromMs, 0, 'the first delta after 5 s');
      const spans = [10_000, 15_000, 20_000].map((ms) => {
        const draw = at(record, whAt(ms), ms);
        return [draw?.atMs, draw?.fromMs];
      });
      assert.deepEqual(spans, [
        [10_000, 0],
        [15_000, 5000],
        [20_000, 10_000],
      ]);
      // Read every 30 s, and once 5 s after a reading (a state report): over 35 s, within 0.5 A.
      at(record, whAt(50_000), 50_000);
      const soon = at(record, whAt(55_000), 55_000);
      assert.equal(soon?.fromMs, 20_000);
      for (const amps of soon?.leastA ?? [])
        assert.ok((amps ?? 0) >= 15.4 - 0.5, JSON.stringify(round(soon)));
    });

    it('on IT (3×230 V): a one-phase car between two conductors is 16 A on both, a three-phase car its own current on each', () => {
      // The load manager's volts per conductor on IT are 230 V / √3 (site/model.ts). Divided by them
      // as if they were 230 V, a one-phase car's 16 A read as 27.7 A, above a 16 A wiring, and every
      // delta was refused (IT seed 5420 path 366); on one conductor only, the 15 A its L2 carried was
      // counted at the three-phase count's 8.7 A (IT seed 20261126 path 73).
      const it = harness({
        network: 'IT',
        circuits: [{ id: 'zone', limitA: 63 }],
        connectors: [{ chargePointId: 'E', circuit: 'zone', maxA: 16 }],
      });
      const itSite = it.manager.site;
      const itConnector = itSite.connectors[0];
      assert.ok(itConnector);
      const read = (record: { register?: RegisterRecord }, wh: number, atMs: number) =>
        registerDraw(itSite, itConnector, record, { wh, atMs, key: 'tx:1' }, undefined, logger);
      const onePhase = {};
      read(onePhase, 1000, 0);
      // 16 A between two lines at 230 V for a minute: 3.68 kW.
      const one = round(read(onePhase, 1000 + Math.round((16 * 230 * 60_000) / 3_600_000), 60_000));
      assert.ok((one.most?.[0] ?? 0) >= 16 && (one.most?.[1] ?? 0) >= 16, JSON.stringify(one));
      assert.ok((one.most?.[0] ?? 0) < 16.5, `not √3 too high: ${JSON.stringify(one)}`);
      const threePhase = {};
      read(threePhase, 1000, 0);
      // 10 A on each of three conductors: √3 × 230 V × 10 A = 3.98 kW; a one-phase count there is
      // 17.3 A, within 16 A's tolerance: counted at the most either count puts on each conductor.
      const three = round(
        read(threePhase, 1000 + Math.round((Math.sqrt(3) * 230 * 10 * 60_000) / 3_600_000), 60_000),
      );
      assert.ok(
        three.least?.every((a) => a >= 9.6 && a <= 10.3),
        `judged at its own 10 A: ${JSON.stringify(three)}`,
      );
    });

    it('a car that may be on one phase: each phase at the most a plausible count of phases puts on it', () => {
      const record = {};
      at(record, 5000, 0);
      // 7 kW over a minute: 30.4 A on one phase, 15.2 A on two, 10.1 A on three, all within 32 A.
      const { most, least } = round(at(record, 5000 + Math.round(whOf(10.14, 3, 60_000)), 60_000));
      assert.deepEqual(most, [30.78, 15.39, 10.26]);
      assert.deepEqual(least, [10.09, 10.09, 10.09]);
    });

    it('reads a kWh register (10 Wh steps) with its step, and the step the session shows', () => {
      const record = {};
      at(record, 12_340, 0);
      const { most, least } = round(at(record, 12_640, 60_000));
      assert.deepEqual(most, [26.96, 26.96, 26.96]);
      assert.deepEqual(least, [25.22, 25.22, 25.22]);
      // A value that is not a multiple of 10: whole Wh from now on.
      assert.deepEqual(round(at(record, 12_941, 120_000)).most, [26.26, 26.26, 26.26]);
    });

    it('a car switched to one phase: on L1 while one phase at its set-point carries it; over every count beyond (it ignored the switch)', () => {
      const onePhase = (record: { register?: RegisterRecord }, wh: number, atMs: number) =>
        registerDraw(site, connector, record, { wh, atMs, key: 'tx:1' }, 7, logger);
      const record = {};
      onePhase(record, 5001, 0);
      // 6 A on one phase for a minute: within its 6 A set-point (and the tolerance): on L1 only.
      const followed = round(onePhase(record, 5001 + Math.round(whOf(6, 1, 60_000)), 60_000));
      assert.deepEqual(followed.most, [6.26, 0, 0], 'one Wh more than the delta, on L1 only');
      // 6 A on each of three phases: 18 A if on one, more than one phase at 6 A carries. On the old
      // code it was counted on L1 only (at 18 A): never seen on the phases the switch was to free.
      const ignored = round(
        onePhase(record, 5001 + Math.round(whOf(6, 1, 60_000) + whOf(6, 3, 60_000)), 120_000),
      );
      assert.ok((ignored.most?.[1] ?? 0) >= 6 && (ignored.most?.[2] ?? 0) >= 6, JSON.stringify(ignored));
    });

    it('starts anew at a new session, a register that went back, and after a long gap; waits out a repeated time', () => {
      const record: { register?: RegisterRecord } = {};
      at(record, 1000, 0);
      const first = at(record, 1025, 5000);
      assert.ok(first);
      assert.equal(at(record, 1025, 5000), first, 'the same reading again: the same draw');
      assert.equal(
        at(record, 1030, 5000),
        first,
        'another value at the same time: waits for a longer interval',
      );
      assert.equal(at(record, 1031, 6000), first, 'within 2 s: waits for a longer interval');
      assert.equal(at(record, 1025, 9000), first, 'the same value later: waits for a rise');
      assert.deepEqual(
        at(record, 1050, 10_000)?.fromMs,
        0,
        'within 10 s of the last reading that moved: from the one 10 s before it',
      );
      assert.deepEqual(
        at(record, 1075, 15_000)?.fromMs,
        5000,
        'the average from the newest reading that moved 10 s before',
      );
      assert.equal(at(record, 1050, 10_000, 'tx:2'), undefined, 'a new transaction');
      assert.equal(
        at(record, 20, 15_000, 'tx:2'),
        undefined,
        'the register went back (a reset, a wraparound)',
      );
      assert.ok(at(record, 45, 20_000, 'tx:2'), 'and counts from there');
      assert.equal(at(record, 400, 20_000 + 600_001, 'tx:2'), undefined, 'a delta over more than 10 min');
    });

    it('read at its own time, a register that did not rise since it rose is a reading: its car drew at most a step; the rise stays the baseline', () => {
      const read = (record: { register?: RegisterRecord }, wh: number, atMs: number) =>
        registerDraw(site, connector, record, { wh, atMs, key: 'tx:1', ownTime: true }, undefined, logger);
      const idle: { register?: RegisterRecord } = {};
      read(idle, 0, 0);
      assert.equal(
        read(idle, 0, 30_000),
        undefined,
        'before its first rise its step is not known (0 is a multiple of 100 Wh)',
      );
      const record: { register?: RegisterRecord } = {};
      read(record, 1000, 0);
      assert.ok(read(record, 1000 + Math.floor(whOf(9, 3, 30_000)), 30_000), '51 Wh in 30 s');
      // Paused: the register holds still at 1051 Wh. On the old code it waited for a rise (minutes for
      // a charger read every 41-60 s), and a pause was shown only once its draw went stale.
      const still = read(record, 1051, 75_000);
      assert.ok(still, 'a reading');
      assert.deepEqual(round(still).least, [0, 0, 0]);
      assert.ok((still?.mostA[0] ?? 99) < 0.4, `one Wh over 45 s: ${still?.mostA[0]} A`);
      assert.equal(still?.fromMs, 30_000, 'from the last rise');
      assert.equal(read(record, 1051, 75_000), still, 'the same reading again: the same draw');
      // The car starts again: the next rise is the average from the last rise, not a step or two
      // over the seconds since the still reading.
      const rose = read(record, 1055, 78_000);
      assert.equal(rose?.fromMs, 30_000);
      assert.ok(
        (rose?.mostA[0] ?? 99) < 2,
        `5 Wh over 48 s, not over 3 s (26 A): ${JSON.stringify(round(rose))}`,
      );
    });

    it('refuses a delta its wiring cannot carry, logged once per session', () => {
      const record: { register?: RegisterRecord } = {};
      warned.length = 0;
      at(record, 1003, 0);
      assert.equal(at(record, 2004, 5000), undefined);
      assert.equal(at(record, 3005, 10_000), undefined);
      assert.equal(warned.length, 1);
      assert.match(
        warned[0] ?? '',
        /charger E\/1: its energy register rose by 1001 Wh in 5 s, 1043\.5 A on every phase, more than its 32 A wiring carries: not taken as its draw/,
      );
      assert.ok(at(record, 3030, 15_000), 'a plausible delta after it is taken');
    });
  });

  /** A register that counts `amps()` per phase on `phases` phases, reported every `everyMs`. */
  function energyOnly(
    h: ReturnType<typeof harness>,
    key: string,
    amps: () => number,
    everyMs = 5000,
    phases = 3,
  ) {
    let wh = 0;
    let lastMs = h.clock.now();
    let reportedMs = lastMs;
    h.feed(() => {
      const now = h.clock.now();
      wh += whOf(amps(), phases, now - lastMs);
      lastMs = now;
      if (now - reportedMs < everyMs) return;
      reportedMs = now;
      h.state(key, { status: 'Charging', energyWh: Math.floor(wh), measuredAt: h.iso(), lastSeen: h.iso() });
    });
  }

  /** Charger E (energy only, fed by the test) and B on one line of `limitA`, started. */
  function lineOfTwo(limitA: number): ReturnType<typeof harness> {
    const h = harness({
      circuits: [{ id: 'line', limitA }],
      connectors: [
        { chargePointId: 'E', circuit: 'line' },
        { chargePointId: 'B', circuit: 'line' },
      ],
      control: { rampUpAPerS: 100, minUpdateIntervalMs: 1000 },
    });
    h.start();
    return h;
  }

  const summaryOfE = (h: ReturnType<typeof harness>) =>
    h.manager.summary().connectors.find((c) => c.chargePointId === 'E');

  describe('notePhasesShow', () => {
    const { site, connector } = zoneOfE();
    /** Readings every 10 s in whole Wh of a car at `amps()` A on `phases`, under `setPointA` from `fromMs` (settled then). */
    function under(
      record: Parameters<typeof notePhasesShow>[2],
      state: { wh: number; atMs: number },
      setPointA: number,
      amps: number,
      phases: number,
      forMs: number,
    ): void {
      const settledAtMs = state.atMs;
      for (let t = 0; t < forMs; t += 10_000) {
        const fromWh = Math.floor(state.wh);
        const fromMs = state.atMs;
        state.wh += whOf(amps, phases, 10_000);
        state.atMs += 10_000;
        notePhasesShow(
          site,
          connector as NonNullable<typeof connector>,
          record,
          { fromWh, wh: Math.floor(state.wh), stepWh: 1, fromMs, atMs: state.atMs },
          setPointA,
          settledAtMs,
        );
      }
    }

    it('a car on one phase at two set-points 6 A apart: one phase (not on one 10 s delta)', () => {
      const record = {};
      const state = { wh: 0, atMs: 0 };
      under(record, state, 6, 6, 1, 10_000);
      assert.equal(
        (record as { energyAtSetPointA?: number }).energyAtSetPointA,
        undefined,
        'over 10 s whole Wh put 6 A on one phase between 4.7 and 7.8 A',
      );
      under(record, state, 6, 6, 1, 120_000);
      under(record, state, 12, 12, 1, 120_000);
      assert.equal((record as { energyPhases?: string }).energyPhases, 'one');
    });

    it('a car on one phase held at 6 A and raised to 7 A follows the raise: one phase (a keeper never 6 A apart)', () => {
      const record: Parameters<typeof notePhasesShow>[2] = {};
      const state = { wh: 0, atMs: 0 };
      under(record, state, 6, 6.1, 1, 600_000);
      assert.equal(record.energyPhases, undefined, 'at 6 A alone: or 2 A on three');
      // Settled at 7 A: one 10 s delta's whole Wh put it anywhere between 5.5 and 8.7 A.
      under(record, state, 7, 7.1, 1, 10_000);
      assert.equal(record.energyPhases, undefined, 'not on one 10 s delta');
      under(record, state, 7, 7.1, 1, 120_000);
      assert.equal(record.energyPhases, 'one');
    });

    it('a car on three phases at its own 2.2 A under 6 A, then 7 A, then 6 A again: never one phase (it does not follow)', () => {
      const record: Parameters<typeof notePhasesShow>[2] = {};
      const state = { wh: 0, atMs: 0 };
      for (const setPointA of [6, 7, 6, 7, 8]) under(record, state, setPointA, 2.2, 3, 300_000);
      assert.notEqual(record.energyPhases, 'one');
    });

    it('a car on one phase lowered from 7 A to 6 A: a fall is not taken for one phase (a taper falls too)', () => {
      const record: Parameters<typeof notePhasesShow>[2] = {};
      const state = { wh: 0, atMs: 0 };
      under(record, state, 7, 7.1, 1, 300_000);
      under(record, state, 6, 6.1, 1, 300_000);
      assert.equal(record.energyPhases, undefined);
    });

    it('a car on three phases at its own 5 A under 15, 16 and 21 A, or following: never one phase', () => {
      // 5 A on three phases is 15 A on one: at 15 A and 16 A (within both bands) it fits one phase.
      const own = {};
      const state = { wh: 0, atMs: 0 };
      under(own, state, 15, 5, 3, 120_000);
      under(own, state, 16, 5, 3, 120_000);
      under(own, state, 21, 5, 3, 120_000);
      assert.notEqual((own as { energyPhases?: string }).energyPhases, 'one');
      // Following 6 A and 12 A on three phases: more than either on one, for the session.
      const following = {};
      under(following, state, 6, 6, 3, 120_000);
      assert.equal((following as { energyPhases?: string }).energyPhases, 'more');
      under(following, state, 18, 6, 3, 120_000);
      assert.equal((following as { energyPhases?: string }).energyPhases, 'more');
    });
  });

  it('sees a charger that draws above its set-point by its register, and counts it at what it draws', () => {
    const h = lineOfTwo(40);
    h.plugIn('E/1');
    h.plugIn('B/1');
    h.obey('B/1');
    energyOnly(h, 'E/1', () => 26);
    h.run(60_000);
    const summary = summaryOfE(h);
    assert.equal(summary?.overdrawing, true, JSON.stringify(summary));
    assert.equal(summary?.measuredBy, 'energy');
    // 17.9 kW: 26 A on three phases (39 A on two is more than the wiring carries).
    assert.ok(
      summary?.countedA.every((a) => a >= 26 && a <= 27.1),
      JSON.stringify(summary),
    );
    assert.ok((h.limit('B/1') ?? 0) <= 14, `B is given what is left: ${h.limit('B/1')} A`);
    assert.match(h.setPoint('E/1')?.reason ?? '', /measured by its energy register/);
    h.stop();
  });

  it('takes a charger that follows its set-point as following (no overdraw), its decreases shown by the register', () => {
    const h = lineOfTwo(32);
    h.plugIn('E/1');
    energyOnly(h, 'E/1', () => h.limit('E/1') ?? 0);
    h.run(60_000);
    // Its register cannot show a car's overshoot: it is kept 3 % (evidence/overshoot.ts
    // UNREAD_OVERSHOOT; 32 A before it was).
    assert.equal(h.limit('E/1'), 31);
    h.plugIn('B/1');
    h.obey('B/1');
    // The register cannot tell a car on two phases still at 24 A from one on three at 16 A: the
    // decrease settles by the charger's follow time (60 s until learned), not by its reading.
    h.run(120_000);
    const summary = summaryOfE(h);
    assert.equal(summary?.overdrawing, undefined, JSON.stringify(summary));
    // E's 3 % is kept on its own set-point, B's car is exact: 15.7 × 1.03 + 15.7 = 31.87 A of 32
    // (15.5 A each while the 3 % was kept on both).
    assert.deepEqual([h.limit('E/1'), h.limit('B/1')], [15.7, 15.7]);
    h.stop();
  });

  it('a car 3 % above its set-point, read every 30 s: its register cannot show that, it is kept 3 % (the population’s most) inside the line', () => {
    const h = lineOfTwo(32);
    h.plugIn('E/1');
    h.plugIn('B/1');
    h.obey('B/1');
    energyOnly(h, 'E/1', () => (h.limit('E/1') ?? 0) * 1.03, 30_000);
    h.run(180_000);
    const summary = summaryOfE(h);
    assert.ok((summary?.overshootPercent ?? 0) >= 2, JSON.stringify(summary));
    const drawn = (h.limit('E/1') ?? 0) * 1.03 + (h.limit('B/1') ?? 0);
    assert.ok(drawn <= 32, `the line carries ${drawn} A`);
    h.stop();
  });

  // Issue 45's home layout (bench:control --day home --fleet mixed --seed 500983): an energy-only
  // charger given 22.2 A whose car took 15.4 A on three phases, which its register cannot tell from
  // two phases at 23.1 A, was counted at 23.1 A for the hour; the keeper beside it stayed at 22.2 A
  // with 8.9 A of the grid unused.
  it('a car on three phases below its set-point: its set-point is lowered to tell it from two, then the rest goes to the other car', () => {
    const h = lineOfTwo(44);
    h.plugIn('E/1');
    h.plugIn('B/1');
    h.obey('B/1');
    energyOnly(h, 'E/1', () => Math.min(15.4, h.limit('E/1') ?? 0), 30_000);
    h.run(600_000);
    const e = h.limit('E/1') ?? 0;
    const b = h.limit('B/1') ?? 0;
    assert.ok(
      h.sentTo('E/1').some((s) => /to tell its phases by the energy register/.test(s.reason)),
      'the probe says why',
    );
    assert.ok(e >= 15.4 && e <= 17, `E is given what its car takes and a margin: ${e} A`);
    // The rest, less the 3 % the line keeps back for E's car, whose overshoot its register cannot
    // show (evidence/overshoot.ts: one factor for every car below it, 1.3 A of the 44 A).
    assert.ok(b >= 44 / 1.03 - e - 0.1, `B is given the rest: ${b} A (E ${e} A)`);
    assert.ok(Math.min(15.4, e) + b <= 44, `the line carries ${Math.min(15.4, e) + b} A`);
    h.stop();
  });

  // Alone on a line beside other loads that rise by 0.5 A every 40 s (the home day: its share
  // moved by 1 A a minute, far above the 15.4 A its car took). Each move restarted the probe's 60 s
  // wait for a steady set-point (the home day's probe came at 790 s, not 480 s: seed 500983).
  it('a car on three phases below its set-point, its share moving far above what it takes: the probe does not wait for a still share', () => {
    const h = harness({
      circuits: [{ id: 'line', limitA: 26, meter: { source: 'm', location: 'otherLoadsOnly' } }],
      connectors: [{ chargePointId: 'E', circuit: 'line' }],
      control: { rampUpAPerS: 100, minUpdateIntervalMs: 1000 },
    });
    h.start();
    h.feed(() => {
      const otherA = 0.5 * (Math.floor(h.clock.now() / 40_000) % 8);
      h.meter('m', [otherA, otherA, otherA]);
    });
    h.plugIn('E/1');
    const startMs = h.clock.now();
    energyOnly(h, 'E/1', () => Math.min(15.4, h.limit('E/1') ?? 0), 30_000);
    h.run(600_000);
    const sent = h.sentTo('E/1');
    const trail = sent.map((s) => `${Math.round((s.atMs - startMs) / 1000)} s ${s.limitA}`).join(' | ');
    // As soon as with a still share (60 s steady, then a reading under it): 150 s; 390 s before.
    const probe = sent.find((s) => /to tell its phases by the energy register/.test(s.reason));
    assert.ok(probe && probe.atMs - startMs <= 200_000, trail);
    const e = h.limit('E/1') ?? 0;
    assert.ok(e >= 15.4 && e <= 17, `E is given what its car takes and a margin: ${e} A; ${trail}`);
    h.stop();
  });

  // The same, its charger following in 45 s and read every 52 s (the home layout's CP-3): the
  // delta over the raise after the probe's answer is the average of the old set-point and the new.
  it('a car on three phases below its set-point, its charger slow: a delta over a change of its set-point is not judged an under-draw', () => {
    const h = lineOfTwo(44);
    h.plugIn('E/1');
    h.plugIn('B/1');
    h.obey('B/1');
    const sent: { atMs: number; limitA: number }[] = [];
    const followMs = 45_000;
    energyOnly(
      h,
      'E/1',
      () => {
        const now = h.clock.now();
        const limitA = h.limit('E/1') ?? 0;
        if (sent[sent.length - 1]?.limitA !== limitA) sent.push({ atMs: now, limitA });
        const inForce = sent.filter((s) => s.atMs <= now - followMs).pop()?.limitA ?? 0;
        return Math.min(15.4, inForce);
      },
      52_000,
    );
    h.run(1_200_000);
    const trail = h
      .sentTo('E/1')
      .map((s) => `${Math.round(s.atMs / 1000)} s ${s.limitA} ${s.reason}`)
      .join(' | ');
    const probe = h
      .sentTo('E/1')
      .findIndex((s) => /to tell its phases by the energy register/.test(s.reason));
    assert.ok(probe >= 0, trail);
    // After the probe's set-point, E is raised to what its car draws and a margin, and not
    // lowered below what it draws again (on the old code: 14.6 A on the delta over the raise).
    const after = h.sentTo('E/1').slice(probe + 1);
    assert.ok(after.length > 0, trail);
    assert.ok(
      after.every((s) => s.limitA >= 15.4),
      trail,
    );
    h.stop();
  });

  it('a car on two phases at its set-point: lowered once to tell, then given its share again', () => {
    const h = lineOfTwo(44);
    h.plugIn('E/1');
    h.plugIn('B/1');
    h.obey('B/1');
    energyOnly(h, 'E/1', () => h.limit('E/1') ?? 0, 30_000, 2);
    h.run(600_000);
    const lows = h.sentTo('E/1').filter((s) => s.atMs > h.clock.now() - 600_000 + 120_000 && s.limitA < 21);
    assert.ok(lows.length <= 1, `lowered at most once: ${lows.map((s) => s.limitA).join(', ')}`);
    // Its share of the 44 A less the 3 % kept back for its car's overshoot (its register cannot
    // show it): 21.3 A.
    assert.ok((h.limit('E/1') ?? 0) >= 44 / 1.03 / 2 - 0.1, `E is back at its share: ${h.limit('E/1')} A`);
    h.stop();
  });

  it('a meter that counts the chargers: what the register shows is taken away from the other loads', () => {
    const h = harness({
      circuits: [{ id: 'home', limitA: 40, meter: { source: 'grid', location: 'includesChargers' } }],
      connectors: [{ chargePointId: 'E', circuit: 'home' }],
      control: { rampUpAPerS: 100, minUpdateIntervalMs: 1000 },
    });
    h.start();
    h.plugIn('E/1');
    const carA = () => Math.min(20, h.limit('E/1') ?? 0);
    energyOnly(h, 'E/1', carA);
    h.feed(() => {
      const a = 8 + carA();
      h.meter('grid', [a, a, a]);
    });
    h.run(120_000);
    const home = h.manager.summary().circuits.find((c) => c.id === 'home');
    assert.ok(
      home?.otherA.every((a) => a >= 7 && a <= 9.5),
      `the other loads are the 8 A beside the car, not its 20 A: ${JSON.stringify(home?.otherA)}`,
    );
    h.stop();
  });

  describe('a charger that offers 3 A more than told, read by its register every 5 s in whole Wh', () => {
    /** E (energy only, its one-phase car at its set-point and 3 A) beside B (first) on a 38 A line: E at 6 A; run 120 s. */
    function overOffering(network: 'TN' | 'IT', phases: 1 | 3) {
      const h = harness({
        ...(network === 'IT' ? { network: 'IT' as const } : {}),
        circuits: [{ id: 'line', limitA: 38 }],
        connectors: [
          { chargePointId: 'E', circuit: 'line', maxA: 16, ...(phases === 1 ? { phases: 1 as const } : {}) },
          { chargePointId: 'B', circuit: 'line', maxA: 32, priority: 10 },
        ],
        unbalanceLimitA: null,
        control: { rampUpAPerS: 100, minUpdateIntervalMs: 1000 },
      });
      h.start();
      h.plugIn('E/1');
      h.plugIn('B/1');
      h.obey('B/1');
      const carA = () => Math.min(16, (h.limit('E/1') ?? 0) + 3);
      energyOnly(h, 'E/1', carA, 5000, 1);
      h.run(120_000);
      return { h, carA };
    }

    it('at a one-phase connector: judged over the deltas since its set-point settled, counted at what it draws (IT seed 9474 path 431)', () => {
      // One 5 s delta of whole Wh is 3.1 A either way at 230 V: judged at its least, the 3 A over its
      // 6 A never showed, it was raised to 14.5 A and drew 16.5 A beside keepers that filled the
      // breaker (0.48 A over for 40 s).
      for (const network of ['TN', 'IT'] as const) {
        const { h, carA } = overOffering(network, 1);
        const summary = summaryOfE(h);
        const counted = Math.max(...(summary?.countedA ?? [0]));
        assert.ok(counted >= carA() - 0.3, `${network}: counted at ${counted} A, draws ${carA()} A`);
        h.stop();
      }
    });

    it('on IT, its one-phase car at a three-phase connector is counted on both conductors it loads (IT seed 9474 path 774)', () => {
      // A one-phase car between the charger's L1 and L2 carries its current on both; counted at the
      // most a count puts on each charger phase, L2 took the three-phase count's 5.4 A (or its
      // set-point) while the car drew 9 A there, and another charger was raised into it.
      const { h, carA } = overOffering('IT', 3);
      const summary = summaryOfE(h);
      const counted = summary?.countedA ?? [0, 0, 0];
      assert.ok(
        (counted[0] ?? 0) >= carA() - 0.3 && (counted[1] ?? 0) >= carA() - 0.3,
        `counted ${JSON.stringify(counted)} A, draws ${carA()} A on L1 and L2`,
      );
      h.stop();
    });
  });
});
