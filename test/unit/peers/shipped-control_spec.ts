import assert from 'node:assert/strict';
import type { SiteConfig } from '../../../lib/dlm/site';
import type { Cars201 } from '../../support/car201';
import { until } from '../../support/events';
import type { EvpowerCharger } from '../../support/evpower-charger';
import { limitOf, setPointsWhere, usePeerChargers } from '../../support/peer-site';

/**
 * Issue 39, end to end with the shipped control settings (a 30 s update interval, the 0.5 A/s ramp;
 * only the follow time of a charger never seen following is 2 s, see zone()): a real central system, the load manager
 * and the charging-profile manager wired as the nodes wire them, and chargers not written here
 * (OCPP 1.6 on @evpower/ocpp-ts, the OCPP 2.0.1 test station). A 63 A zone: a lone car reaches its
 * 32 A within 10 s (was 6 A, 21 A after 30 s, 32 A after 60 s); two more arrive; one leaves and the
 * other two have its current within 5 s. Times are real (the whole test takes a few seconds).
 */

const LONE_WITHIN_MS = 10_000;
const DEPARTURE_WITHIN_MS = 5_000;
/**
 * The arrivals before the departure are not what is measured (usually < 1 s); a bound, not a wait.
 */
const ARRIVALS_MS = 70_000;

function zone(ids: readonly string[]): SiteConfig {
  return {
    circuits: [{ id: 'zone', limitA: 63 }],
    connectors: ids.map((chargePointId) => ({ chargePointId, circuit: 'zone', maxA: 32 })),
    unbalanceLimitA: null,
    // The one setting not shipped, for the arrivals before the departure (not what is measured):
    // this charger reports its draw right after a change, and when that reading reaches the
    // central system before the charger's answer it proves no decrease; its next one repeats the
    // same values, so the later arrivals would wait the 60 s a charger never seen following a
    // decrease is given. The departure itself needs no proof (its transaction ended).
    control: { decreaseSettleMs: 2_000 },
  };
}

describe('shipped control settings: a lone car at its share within 10 s, a departure freed within 5 s (real central system)', () => {
  const peers = usePeerChargers();

  it('OCPP 1.6 (@evpower/ocpp-ts)', async function () {
    this.timeout(2 * ARRIVALS_MS + 20_000);
    const ids = ['EVP-1', 'EVP-2', 'EVP-3'];
    const { wired, chargers, wake: onChange } = await peers.evpower(ids, zone(ids));
    const { manager, feedErrors } = wired;
    const [first, second, third] = chargers as [EvpowerCharger, EvpowerCharger, EvpowerCharger];

    const pluggedAt = Date.now();
    assert.equal(await first.startSession(1, 'TAG-0', { maxA: 32, phases: 3 }), 'Accepted');
    await until(() => first.limitA(1) === 32, onChange, LONE_WITHIN_MS);
    const loneMs = Date.now() - pluggedAt;
    assert.equal(await second.startSession(1, 'TAG-1', { maxA: 32, phases: 3 }), 'Accepted');
    assert.equal(await third.startSession(1, 'TAG-2', { maxA: 32, phases: 3 }), 'Accepted');
    await until(() => chargers.every((cp) => cp.limitA(1) === 21), onChange, ARRIVALS_MS).catch((err) => {
      throw new Error(
        `${err.message}: chargers at ${chargers.map((cp) => cp.limitA(1))} A, ${JSON.stringify(manager.setPoints())}`,
      );
    });

    const stoppedAt = Date.now();
    await third.stopSession(1);
    await setPointsWhere(
      manager,
      (points) => limitOf(points, 'EVP-1') === 31.5 && limitOf(points, 'EVP-2') === 31.5,
      DEPARTURE_WITHIN_MS,
    );
    await until(() => [first, second].every((cp) => cp.limitA(1) === 31.5), onChange, DEPARTURE_WITHIN_MS);
    const freedMs = Date.now() - stoppedAt;
    console.log(
      `      1.6: the lone car's 32 A in force after ${loneMs} ms; the departure's current after ${freedMs} ms`,
    );
    assert.ok(loneMs <= LONE_WITHIN_MS && freedMs <= DEPARTURE_WITHIN_MS);
    assert.deepEqual(feedErrors, []);
  });

  it('OCPP 2.0.1 (test station), the car unplugged (TransactionEvent Ended, EVDisconnected)', async function () {
    this.timeout(ARRIVALS_MS + 20_000);
    const ids = ['S201-1', 'S201-2', 'S201-3'];
    const { wired, stations, wake: onDraw } = await peers.stations201(ids, zone(ids));
    const { manager, feedErrors } = wired;
    const [first, second, third] = stations as [Cars201, Cars201, Cars201];

    const pluggedAt = Date.now();
    await first.plugIn(1, 'TAG-0', { maxA: 32, phases: 3 });
    await until(() => first.drawA(1)[0] === 32, onDraw, LONE_WITHIN_MS);
    const loneMs = Date.now() - pluggedAt;
    await second.plugIn(1, 'TAG-1', { maxA: 32, phases: 3 });
    const lastTx = await third.plugIn(1, 'TAG-2', { maxA: 32, phases: 3 });
    await until(() => stations.every((cars) => cars.drawA(1)[0] === 21), onDraw, ARRIVALS_MS).catch((err) => {
      throw new Error(
        `${err.message}: cars draw ${stations.map((cars) => cars.drawA(1)[0])} A, ${JSON.stringify(manager.setPoints())}`,
      );
    });

    const stoppedAt = Date.now();
    await third.charger.stopTransaction(lastTx, { stoppedReason: 'EVDisconnected' });
    await setPointsWhere(
      manager,
      (points) => limitOf(points, 'S201-1') === 31.5 && limitOf(points, 'S201-2') === 31.5,
      DEPARTURE_WITHIN_MS,
    );
    await until(
      () => [first, second].every((cars) => cars.drawA(1)[0] === 31.5),
      onDraw,
      DEPARTURE_WITHIN_MS,
    );
    const freedMs = Date.now() - stoppedAt;
    console.log(
      `      2.0.1: the lone car draws its 32 A after ${loneMs} ms; the departure's current after ${freedMs} ms`,
    );
    assert.ok(loneMs <= LONE_WITHIN_MS && freedMs <= DEPARTURE_WITHIN_MS);
    assert.deepEqual(feedErrors, []);
    for (const cars of stations) assert.deepEqual(cars.charger.violations, []);
  });
});
