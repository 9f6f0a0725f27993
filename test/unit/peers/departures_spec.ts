import assert from 'node:assert/strict';
import type { SiteConfig } from '../../../lib/dlm/site';
import type { Cars201 } from '../../support/car201';
import { until } from '../../support/events';
import { limitOf, setPointsWhere, usePeerChargers } from '../../support/peer-site';

/**
 * A departure frees its current at once (issue 36, item 6), end to end: a real central system,
 * the load manager and the charging-profile manager wired as the nodes wire them, and chargers
 * not written here: OCPP 1.6 on @evpower/ocpp-ts (evpower-charger.ts) and the OCPP 2.0.1 test
 * station (charger201.ts). A 63 A zone, three cars that want 32 A (21 A each); one leaves; the
 * time from its stop to the others' raised set-points is measured in real time. decreaseSettleMs
 * is the shipped 60 s: before, the departed charger (never seen following a decrease) held the
 * others for that long.
 */

const ZONE_A = 63;
/** One update (the load manager's tick is 1 s) and the time the messages take: the bound. */
const WITHIN_MS = 5_000;

function zone(ids: readonly string[]): SiteConfig {
  return {
    circuits: [{ id: 'zone', limitA: ZONE_A }],
    connectors: ids.map((chargePointId) => ({ chargePointId, circuit: 'zone', maxA: 32 })),
    unbalanceLimitA: null,
    // The cars reach their shares at once (the ramp is the unit spec's: test/unit/dlm/departures_spec.ts).
    control: { rampUpAPerS: 1000, minUpdateIntervalMs: 0 },
  };
}

describe('a departure frees its current at once (real central system, independent chargers)', () => {
  const peers = usePeerChargers();

  it('OCPP 1.6 (@evpower/ocpp-ts): StopTransaction and Finishing, the others raised within 5 s', async function () {
    this.timeout(30_000);
    const ids = ['EVP-1', 'EVP-2', 'EVP-3'];
    const { wired, chargers, wake: onChange } = await peers.evpower(ids, zone(ids));
    const { manager, feedErrors } = wired;
    for (const [i, cp] of chargers.entries())
      assert.equal(await cp.startSession(1, `TAG-${i}`, { maxA: 32, phases: 3 }), 'Accepted');
    await setPointsWhere(manager, (points) => ids.every((id) => limitOf(points, id) === 21), 10_000);
    // The chargers have their 21 A (the profile manager's commands were accepted).
    await until(() => chargers.every((cp) => cp.limitA(1) === 21), onChange, 10_000);

    const stoppedAt = Date.now();
    await chargers[2]?.stopSession(1);
    const raisedMs = await setPointsWhere(
      manager,
      (points) => limitOf(points, 'EVP-1') === 31.5 && limitOf(points, 'EVP-2') === 31.5,
      WITHIN_MS,
    );
    await until(() => chargers.slice(0, 2).every((cp) => cp.limitA(1) === 31.5), onChange, WITHIN_MS);
    const inForceMs = Date.now() - stoppedAt;
    console.log(
      `      1.6: set-points raised ${raisedMs} ms after the stop, in force at the chargers after ${inForceMs} ms`,
    );
    assert.ok(inForceMs <= WITHIN_MS);
    assert.deepEqual(feedErrors, []);
  });

  it('OCPP 2.0.1 (test station): TransactionEvent Ended (EVDisconnected), the others raised within 5 s', async function () {
    this.timeout(30_000);
    const ids = ['S201-1', 'S201-2', 'S201-3'];
    const { wired, stations, wake: onDraw } = await peers.stations201(ids, zone(ids));
    const { manager, feedErrors } = wired;
    const txIds: string[] = [];
    for (const [i, cars] of stations.entries())
      txIds.push(await cars.plugIn(1, `TAG-${i}`, { maxA: 32, phases: 3 }));
    await setPointsWhere(manager, (points) => ids.every((id) => limitOf(points, id) === 21), 10_000);
    await until(() => stations.every((cars) => cars.drawA(1)[0] === 21), onDraw, 10_000);

    // The car is unplugged: the station ends the transaction (EVDisconnected) and says nothing else.
    const leaving = stations[2] as Cars201;
    const stoppedAt = Date.now();
    await leaving.charger.stopTransaction(txIds[2] as string, { stoppedReason: 'EVDisconnected' });
    const raisedMs = await setPointsWhere(
      manager,
      (points) => limitOf(points, 'S201-1') === 31.5 && limitOf(points, 'S201-2') === 31.5,
      WITHIN_MS,
    );
    await until(() => stations.slice(0, 2).every((cars) => cars.drawA(1)[0] === 31.5), onDraw, WITHIN_MS);
    const drawnMs = Date.now() - stoppedAt;
    console.log(
      `      2.0.1: set-points raised ${raisedMs} ms after the stop, the cars draw it after ${drawnMs} ms`,
    );
    assert.ok(drawnMs <= WITHIN_MS);
    assert.deepEqual(feedErrors, []);
    for (const cars of stations) assert.deepEqual(cars.charger.violations, []);
  });
});
