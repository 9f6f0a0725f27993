import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { SiteConfig } from '../../../lib/dlm/site';
import { Charger201 } from '../../support/charger201';
import { type Listenable, until } from '../../support/events';
import { usePeerCarPark } from '../../support/peer-site';
import { PlainCharger } from '../../support/plain-charger';

/**
 * Issue 45, item 3: a station that reports its energy register only (OCPP 1.6's default measurand,
 * kept after MeterValuesSampledData was changed) and takes no limits (no SmartCharging). Before, it
 * was counted at its own fallback (6 A, the shipped example's offlineA) while its car drew 26 A per
 * phase. A real central system, the load manager and the profile manager wired as the nodes wire
 * them, the charger on plain `ws` (plain-charger.ts), every clock the test's.
 */

const ZONE_A = 40;

function zone(ids: readonly string[]): SiteConfig {
  return {
    circuits: [{ id: 'zone', limitA: ZONE_A }],
    connectors: ids.map((chargePointId) => ({ chargePointId, circuit: 'zone', maxA: 32, offlineA: 6 })),
    unbalanceLimitA: null,
    // A summary after every update: the test wakes on them.
    control: { rampUpAPerS: 1000, minUpdateIntervalMs: 0, summaryIntervalMs: 0 },
  };
}

describe('a charger that reports energy only and takes no limits (issue 45)', () => {
  const clock = new ManualClock(Date.now());
  const { harness, chargers, cleanups, connected, loop } = usePeerCarPark(
    (identity, options) =>
      new PlainCharger(identity, {
        ...options,
        now: () => clock.now(),
        ...(identity === 'ENERGY-1' ? { energyOnly: true, noSmartCharging: true } : {}),
      }),
  );

  it('is counted at ≥ 26 A from its register within two of its readings, named in the summary, and the other car gets the rest', async () => {
    const cs = await harness().centralSystem({ clock });
    const { manager, feedErrors } = loop(cs, zone(['ENERGY-1', 'PLAIN-2']), clock, { clock });
    const energyOnly = await connected(cs, 'ENERGY-1');
    const other = await connected(cs, 'PLAIN-2');
    await other.startSession(1, 'TAG-2', { maxA: 32, phases: 3 });
    // Its first reading (with the start): the register's first value, no delta yet.
    await energyOnly.startSession(1, 'TAG-1', { maxA: 26, phases: 3 });
    assert.deepEqual(energyOnly.drawA(1), [26, 26, 26]);
    const summaryOf = () => manager.summary().connectors.find((c) => c.chargePointId === 'ENERGY-1');
    // Woken by what the load manager and the chargers do, never by a timer.
    const wake: [Listenable, string][] = [
      [manager, 'summary'],
      ...chargers.flatMap((cp): [Listenable, string][] => [
        [cp, 'change'],
        [cp, 'reported'],
      ]),
    ];
    const describe = () => JSON.stringify(summaryOf());
    await until(() => summaryOf()?.uncontrolled !== undefined, wake, 2000, describe);
    // Its second reading, 5 s later.
    clock.advance(5_000);
    await energyOnly.sendMeterValues(1);
    await until(() => (summaryOf()?.countedA ?? [0]).every((a) => a >= 26), wake, 2000, describe);
    const counted = summaryOf();
    assert.equal(counted?.measuredBy, 'energy');
    assert.match(String(counted?.uncontrolled), /energy register/);
    assert.ok(
      (counted?.countedA ?? []).every((a) => a <= 28),
      JSON.stringify(counted),
    );
    // The other car is given no more than what is left of the zone.
    await until(
      () => other.offeredA(1) <= ZONE_A - 26,
      wake,
      2000,
      () => `PLAIN-2 offers ${other.offeredA(1)} A`,
    );
    assert.deepEqual(feedErrors, []);
  });

  it('OCPP 2.0.1: a station that refuses its limits and reports its register only in TransactionEvents, the same', async () => {
    const cs = await harness().centralSystem({ clock });
    const { manager, feedErrors } = loop(cs, zone(['S201', 'PLAIN-2']), clock, { clock });
    const other = await connected(cs, 'PLAIN-2');
    await other.startSession(1, 'TAG-2', { maxA: 32, phases: 3 });
    const station = new Charger201({
      url: `ws://127.0.0.1:${cs.port}${cs.pathPrefix}`,
      identity: 'S201',
      now: () => clock.now(),
    });
    cleanups.push(() => station.close());
    station.answerWith('SetChargingProfile', () => ({ status: 'Rejected' }));
    await station.connect();
    assert.equal((await station.boot()).status, 'Accepted');
    await station.status(1, 'Available');
    const summaryOf = () => manager.summary().connectors.find((c) => c.chargePointId === 'S201');
    const wake: [Listenable, string][] = [[manager, 'summary']];
    const describe = () => JSON.stringify(summaryOf());
    // Its first reading: the register at Transaction.Begin (kWh-sized: 12.5 MWh on the meter).
    const { transactionId } = await station.startTransaction(1, 'TAG-201', { meterWh: 12_500_000 });
    await station.status(1, 'Occupied');
    await until(() => summaryOf()?.uncontrolled !== undefined, wake, 2000, describe);
    // Its second, 5 s later: 26 A on three phases is 24.9 Wh.
    clock.advance(5_000);
    await station.meterValues(transactionId, { currentA: [], energyWh: 12_500_024 });
    await until(() => (summaryOf()?.countedA ?? [0]).every((a) => a >= 26), wake, 2000, describe);
    assert.equal(summaryOf()?.measuredBy, 'energy');
    await until(
      () => other.offeredA(1) <= ZONE_A - 26,
      wake,
      2000,
      () => `PLAIN-2 offers ${other.offeredA(1)} A`,
    );
    assert.deepEqual(feedErrors, []);
    assert.deepEqual(station.violations, []);
  });
});
