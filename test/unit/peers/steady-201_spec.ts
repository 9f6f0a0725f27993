import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { SetPoint } from '../../../lib/contracts';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { Cars201 } from '../../support/car201';
import { CallError, Charger201 } from '../../support/charger201';
import { describeDraws, supplyLine, until, usePeerCarPark } from '../../support/peer-site';
import { PlainCharger } from '../../support/plain-charger';

/**
 * An OCPP 2.0.1 station that does not implement SetChargingProfile (a CALLERROR NotImplemented to
 * every profile, as the independent simulator's 2.0.1 templates answer) beside OCPP 1.6 chargers
 * on one line (issue 45, item 5). It takes no limit, so the load manager counts it at what it
 * draws; its neighbours share the rest and keep their share: no limit after limit, 6 A and 0 A in
 * turn, while the manager tries the station's profiles again.
 */

const ZONE_A = 63;

describe('a 2.0.1 station without SetChargingProfile beside 1.6 chargers', () => {
  const clock = new ManualClock(Date.now());
  const { harness, cleanups, connected, loop } = usePeerCarPark(
    (identity, options) => new PlainCharger(identity, { ...options, now: () => clock.now() }),
  );

  async function station(cs: CentralSystem, identity: string): Promise<Cars201> {
    const charger = new Charger201({
      url: `ws://127.0.0.1:${cs.port}${cs.pathPrefix}`,
      identity,
      now: () => clock.now(),
    });
    charger.answerWith('SetChargingProfile', () => {
      throw new CallError('NotImplemented', 'SetChargingProfile is not implemented');
    });
    cleanups.push(() => charger.close());
    await charger.connect();
    assert.equal((await charger.boot()).status, 'Accepted');
    await charger.status(1, 'Available');
    return new Cars201(charger);
  }

  it('counts the station at what it draws throughout, asks it no more, and its neighbours keep a steady limit for 10 minutes', async function () {
    this.timeout(30_000);
    // One clock for the central system (it stamps the readings), the load manager, the profile
    // manager and the chargers: ten minutes pass in a few seconds.
    const cs = await harness().centralSystem({ clock });
    const ids = ['PLAIN-1', 'PLAIN-2', 'CS201-1'];
    const { manager, profiles, feedErrors } = loop(cs, supplyLine(ids, ZONE_A, { offlineA: 6 }), clock, {
      clock,
    });
    const given = new Map<string, number[]>(ids.map((id) => [id, []]));
    manager.on('setPoint', (point: SetPoint) => given.get(point.chargePointId)?.push(point.limitA));
    const first = await connected(cs, 'PLAIN-1');
    const second = await connected(cs, 'PLAIN-2');
    const cars = await station(cs, 'CS201-1');
    const all = [first, second, cars];
    const txId = await cars.plugIn(1, 'TAG-201', { maxA: 32, phases: 3 });
    await first.startSession(1, 'TAG-1', { maxA: 32, phases: 3 });
    await second.startSession(1, 'TAG-2', { maxA: 32, phases: 3 });
    // What each charger draws is what the central system has: the loop has seen every change.
    const seen = () =>
      all.every((cp) => (cs.connectorOf(cp.identity, 1)?.currentA?.[0] ?? 0) === (cp.drawA(1)[0] ?? 0));
    let seconds = 0;
    const tick = async () => {
      clock.advance(1000);
      seconds += 1;
      // The station reports its draw every 10 s (TxUpdatedInterval 10, as the simulator's stations),
      // the same values each time: a steady 32 A, its register as at the start (stations whose
      // periodic updates repeat it, or move it in whole kWh). Each is a new reading all the same.
      if (seconds % 10 === 0)
        await cars.charger.meterValues(txId, { currentA: [...cars.drawA(1)], energyWh: 0 });
      for (const id of ids) await profiles.whenSettled(id);
      await until(
        all,
        seen,
        () => `${describeDraws(all)}; set-points ${JSON.stringify(manager.setPoints())}`,
      );
    };
    const profilesTo201 = () =>
      cars.charger.received.filter((call) => call.action === 'SetChargingProfile').length;

    // Two minutes to settle, then ten watched.
    for (let s = 0; s < 120; s++) await tick();
    const settled = new Map(ids.map((id) => [id, given.get(id)?.length ?? 0]));
    const askedBefore = profilesTo201();
    const reasons = new Set<string>();
    let lowest = Number.POSITIVE_INFINITY;
    for (let s = 0; s < 600; s++) {
      await tick();
      const station201 = manager.summary().connectors.find((c) => c.chargePointId === 'CS201-1');
      reasons.add(String(station201?.reason).replace(/ \(\d+(\.\d+)? A\)/, ''));
      lowest = Math.min(lowest, first.drawA(1)[0] ?? 0, second.drawA(1)[0] ?? 0);
    }
    // Counted the same way the whole time: at what it draws, never at its fallback in between.
    assert.equal(reasons.size, 1, [...reasons].join(' | '));
    // Once two readings showed its car, at the most it drew this session and a margin (issue 45).
    assert.match(
      [...reasons][0] ?? '',
      /its limit failed .*counted at the most its car drew this session and a margin/,
    );
    // NotImplemented means no smart charging: not asked again every minute (it was, 10 times).
    assert.equal(profilesTo201() - askedBefore, 0, 'SetChargingProfile to the station in 10 min');
    for (const cp of [first, second]) {
      const limits = (given.get(cp.identity) ?? []).slice(settled.get(cp.identity));
      assert.ok(
        limits.length <= 2,
        `${cp.identity} got ${limits.length} limits in 10 min: ${limits.join(', ')} A`,
      );
    }
    assert.ok(lowest >= 6, `a neighbour drew ${lowest} A`);
    assert.deepEqual(cars.drawA(1), [32, 32, 32], 'the station charges at what it offers on its own');
    assert.deepEqual(feedErrors, []);
  });
});
