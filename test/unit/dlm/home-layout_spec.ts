import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { SetPoint } from '../../../lib/contracts';
import { chargersDrawBelow } from '../../../lib/dlm/evidence/charger-draw';
import { LoadManager } from '../../../lib/dlm/load-manager';
import { ConnectorRuntimes } from '../../../lib/dlm/runtime';
import { parseSite } from '../../../lib/dlm/site/validate';
import { newView } from '../../../lib/dlm/view';
import { silentLogger } from '../../../lib/log';
import { runClosedLoop } from '../../../sim/closed-loop';
import { SiteSimulator } from '../../../sim/site';
import { HOME_LAYOUT, homeLayout } from '../../../sim/site-scenarios';
import { harness } from './support';

/**
 * Issue 45, the home layout with chargers that follow a new limit at once and report their current
 * only every 10, 30 or 60 s: a grid meter that counts them, polled every second; other loads a
 * constant 8 A; three cars that want 32 A on a 63 A breaker, arriving 45 s apart. The grid meter's
 * reading is stamped with when it was measured and reaches the load manager a poll later (a Modbus
 * reading is stamped with its first answer's time): a charger's own reading taken meanwhile is newer
 * than the meter's newest sample. Closed loop against the site simulator, on the injected clock
 * (the site: sim/site-scenarios.ts `homeLayout`, which bench:control's home day runs too).
 *
 * Before: after every raise each car was lowered again at its charger's next reading, 18.3 A ->
 * 16.4 A -> (30 s) 18.3 A ...: that reading closed the raise for the meter's older sample too, and
 * the meter's rise was counted as other loads (8 + 3 x 1.9 A); a reference "with nothing open" was
 * rarely there at all with three cars reporting at different times.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const START = Date.UTC(2026, 10, 26, 18, 0, 0);
const { limitA: LIMIT_A, otherA: OTHER_A, carMaxA: CAR_MAX_A } = HOME_LAYOUT;
const { arrivalGapMs: ARRIVAL_GAP_MS, firstArrivalMs: FIRST_ARRIVAL_MS } = HOME_LAYOUT;
const LAST_ARRIVAL_MS = FIRST_ARRIVAL_MS + 2 * ARRIVAL_GAP_MS;
const DURATION_MS = 20 * MINUTE;
/** The window the drops are counted in: the 140 s, from a minute after the last car came. */
const SETTLED_FROM_MS = LAST_ARRIVAL_MS + MINUTE;
const WINDOW_MS = 140 * SECOND;

function run(reportEveryMs: number) {
  const clock = new ManualClock(START);
  const home = homeLayout({ reportEveryMs, durationMs: DURATION_MS });
  const manager = new LoadManager({ site: home.site, clock, logger: silentLogger });
  const sim = new SiteSimulator({
    clock,
    site: manager.site,
    ...(home.otherLoads ? { otherLoads: home.otherLoads } : {}),
    ...(home.meters ? { meters: home.meters } : {}),
    ...(home.chargers ? { chargers: home.chargers } : {}),
    cars: home.cars,
  });
  const drops = new Map<string, number[]>();
  const last = new Map<string, number>();
  manager.on('setPoint', (setPoint: SetPoint) => {
    const before = last.get(setPoint.chargePointId);
    if (before !== undefined && setPoint.limitA < before)
      drops.set(setPoint.chargePointId, [...(drops.get(setPoint.chargePointId) ?? []), clock.now() - START]);
    last.set(setPoint.chargePointId, setPoint.limitA);
  });
  const result = runClosedLoop(clock, sim, manager, { durationMs: DURATION_MS });
  const kWh = sim.chargerStats().reduce((sum, c) => sum + c.energyWh, 0) / 1000;
  return { result, kWh, drops, voltageV: manager.site.voltageV };
}

/**
 * The ideal: every car at its share from the second it arrives (the breaker less the other loads,
 * shared equally, at most what the car takes), kWh.
 */
function idealKWh(voltageV: number): number {
  let wh = 0;
  for (let t = 0; t < DURATION_MS; t += SECOND) {
    const present = [0, 1, 2].filter((i) => t >= FIRST_ARRIVAL_MS + i * ARRIVAL_GAP_MS).length;
    if (present === 0) continue;
    const shareA = Math.min(CAR_MAX_A, (LIMIT_A - OTHER_A) / present);
    wh += (present * shareA * 3 * voltageV) / 3600;
  }
  return wh / 1000;
}

describe('Load manager: the home layout, chargers that follow at once and report every 10, 30 or 60 s (issue 45, closed loop)', () => {
  for (const reportS of [10, 30, 60]) {
    describe(`chargers reporting every ${reportS} s`, () => {
      let home: ReturnType<typeof run>;
      before(() => {
        home = run(reportS * SECOND);
      });

      it('lowers each car at most once in 140 s once the cars have settled, and never twice within 140 s to the end', () => {
        for (const id of HOME_LAYOUT.connectors) {
          const settled = (home.drops.get(id) ?? []).filter((atMs) => atMs >= SETTLED_FROM_MS);
          const inWindow = settled.filter((atMs) => atMs < SETTLED_FROM_MS + WINDOW_MS);
          assert.ok(inWindow.length <= 1, `${id} lowered at ${inWindow.map((ms) => ms / 1000).join(', ')} s`);
          for (let i = 1; i < settled.length; i++)
            assert.ok(
              (settled[i] ?? 0) - (settled[i - 1] ?? 0) >= WINDOW_MS,
              `${id} lowered at ${settled.map((ms) => ms / 1000).join(', ')} s`,
            );
        }
      });

      it('delivers at least 95 % of the ideal energy, never over the breaker', () => {
        const ideal = idealKWh(home.voltageV);
        const drops = HOME_LAYOUT.connectors.map((id) => home.drops.get(id)?.length ?? 0).join('/');
        console.log(
          `      ${reportS} s: ${home.kWh.toFixed(2)} of ${ideal.toFixed(2)} kWh (${((100 * home.kWh) / ideal).toFixed(1)} %), drops per car ${drops}`,
        );
        assert.ok(home.kWh >= 0.95 * ideal, `${home.kWh.toFixed(2)} kWh of the ideal ${ideal.toFixed(2)}`);
        assert.equal(home.result.overloadedMs, 0);
      });
    });
  }
});

describe('chargersDrawBelow: a raise the charger has not taken yet (issue 45, home day, fleet mixed)', () => {
  // bench:control --day home --fleet mixed --seed 500983, 18:05:30-18:06:16: CP-3, read by its
  // energy register alone and 46 s to follow, was raised from 6 A to 21 A and more; a small
  // decrease (22 -> 21.9 A) went out in the second of its next reading, which still showed 6.2 A
  // (here 21 -> 20.9 A). The raise was
  // looked for only among the changes since that reading, so when the car took it the grid meter's
  // step was counted as other loads and two cars were lowered by 6 A for 55 s.
  it('stays open across a smaller change sent with the charger’s newest reading, until a reading shows it taken', () => {
    const site = parseSite({
      circuits: [{ id: 'house', limitA: 63, meter: { source: 'grid', location: 'includesChargers' } }],
      connectors: [{ chargePointId: 'CP-3', circuit: 'house', maxA: 32 }],
    });
    const connector = site.connectors[0];
    const circuit = site.circuits[0];
    assert.ok(connector && circuit);
    const runtimes = new ConnectorRuntimes();
    runtimes.adopt(site);
    const runtime = runtimes.of(connector);
    runtime.state = { chargePointId: 'CP-3', connectorId: 1, online: true, status: 'Charging' };
    runtime.followMs = 46_000;
    runtime.changes = [
      { atMs: 0, limitA: 6 },
      { atMs: 30_000, limitA: 21 },
      { atMs: 60_000, limitA: 20.9 },
    ];
    runtime.drawHistory = [
      { atMs: 20_000, chargerA: [6.2, 6.2, 6.2] },
      { atMs: 60_000, chargerA: [6.2, 6.2, 6.2] },
    ];
    const view = { ...newView(), drawGridA: [6.2, 6.2, 6.2] as const, gridPhases: [0, 1, 2] as const };
    const drew = (atMs: number) => chargersDrawBelow({ site, runtimes, views: [view] }, circuit, atMs);
    // The meter's sample at 70 s (the car took its raise at 66 s): up to 20.9 A, not 6.2 A.
    assert.deepEqual(
      drew(70_000).raisedA.map((a) => Math.round(a * 10) / 10),
      [14.7, 14.7, 14.7],
    );
    // A reading at 80 s that shows it taken closes it.
    runtime.drawHistory.push({ atMs: 80_000, chargerA: [20.9, 20.9, 20.9] });
    assert.deepEqual(drew(85_000).raisedA, [0, 0, 0]);
  });
});

describe('the house’s peak at a home whose charger takes no limits (issue 45, home day, fleet mixed, seed 777)', () => {
  // A charger that refuses its limits and reports its energy register alone gives no reading of
  // its own until its register's first delta. Its car's start (15 A on three phases) showed on the
  // grid meter at once and was learned as the house's peak (8 -> 23 A, 28.9 A with its margin):
  // held to what would fit if ampflow stopped, the two cars beside it, whose chargers keep their
  // last limit, got nothing all evening (27.8 % of the ideal).
  it('does not learn the start of a car no reading has shown yet as the house’s own', () => {
    const h = harness({
      circuits: [{ id: 'home', limitA: 63, meter: { source: 'grid', location: 'includesChargers' } }],
      connectors: [{ chargePointId: 'U', circuit: 'home' }],
      control: { minUpdateIntervalMs: 1000 },
    });
    let drawsA = 0;
    h.feed(() => h.meter('grid', [8 + drawsA, 8 + drawsA, 8 + drawsA]));
    h.start();
    h.state('U/1', {
      status: 'Available',
      limitFailed: { limitA: 6, since: h.iso(), why: 'refused SetChargingProfile (TxProfile)' },
    });
    h.run(120_000);
    const before = h.manager.summary().circuits[0]?.offline?.otherA ?? 0;
    h.plugIn('U/1', {}, 'Charging');
    drawsA = 15;
    h.run(40_000);
    const offline = h.manager.summary().circuits[0]?.offline;
    assert.ok(
      (offline?.otherA ?? Infinity) <= before + 1e-6,
      `the house's peak if ampflow stopped: ${offline?.otherA} A (before its car: ${before} A)`,
    );
    h.stop();
  });
});

describe('a home charger that takes no limits and reports its energy register alone (issue 45, home day, fleet mixed, seed 4242)', () => {
  // 11 kW is a car at 16 A on three phases or at 23.9 A on two: counted at the fewer, it took
  // 7.9 A a phase more than it drew all evening, and two cars beside it got what was left (75.5 %
  // of the ideal on that day). The grid meter, which counts it, never read 23.9 A on a phase.
  it('is counted on every phase once the grid meter showed it never had room for fewer', () => {
    const h = harness({
      circuits: [{ id: 'home', limitA: 63, meter: { source: 'grid', location: 'includesChargers' } }],
      connectors: [{ chargePointId: 'U', circuit: 'home' }],
      control: { minUpdateIntervalMs: 1000 },
    });
    let drawsA = 0;
    let wh = 0;
    let lastMs = h.clock.now();
    let readMs = lastMs;
    h.feed(() => {
      const now = h.clock.now();
      wh += (drawsA * 230 * 3 * (now - lastMs)) / 3_600_000;
      lastMs = now;
      h.meter('grid', [3 + drawsA, 3 + drawsA, 3 + drawsA]);
      if (drawsA === 0 || now - readMs < 30_000) return;
      readMs = now;
      h.state('U/1', {
        status: 'Charging',
        energyWh: Math.floor(wh),
        measuredAt: h.iso(),
        lastSeen: h.iso(),
      });
    });
    h.start();
    h.state('U/1', {
      status: 'Available',
      limitFailed: { limitA: 6, since: h.iso(), why: 'refused SetChargingProfile (TxProfile)' },
    });
    h.run(60_000);
    h.plugIn('U/1', {}, 'Charging');
    drawsA = 16;
    readMs = h.clock.now();
    h.run(150_000);
    const counted = h.manager.summary().connectors[0]?.countedA ?? [0, 0, 0];
    assert.ok(
      counted.every((a) => a < 18),
      `counted at ${counted} A (its car draws 16 A on each phase; 23.9 A were it on two)`,
    );
    assert.ok(
      h.logged.some((line) => /U\/1: a meter that counts it shows its car on every phase/.test(line)),
    );
    h.stop();
  });
});
