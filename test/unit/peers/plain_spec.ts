import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { SessionRecord } from '../../../lib/contracts';
import { silentLogger } from '../../../lib/log';
import { ChargingProfileManager } from '../../../lib/profiles';
import { describeDraws, lineA, supplyLine, until, usePeerCarPark, watchLine } from '../../support/peer-site';
import { PlainCharger } from '../../support/plain-charger';

/**
 * The central system, the load manager and the profile manager against a charger written from the
 * OCPP-J 1.6 specification on plain `ws` (test/support/plain-charger.ts): no RPC library at all, no
 * vendor quirk. It records whatever the central system does against the specification (framing,
 * message ids, one CALL at a time, the answers' required fields); every test ends by asserting
 * there was nothing.
 */

const SUPPLY_A = 32;

describe('a plain OCPP-J 1.6 charger on ws', () => {
  const { harness, chargers, cleanups, connected, loop, onLine } = usePeerCarPark(
    (identity, options) => new PlainCharger(identity, options),
  );

  function noViolations() {
    for (const cp of chargers)
      assert.deepEqual(cp.violations, [], `${cp.identity}: against the specification`);
  }

  it('runs a whole session: boot, status, authorize, start, meter values, stop, one charge data record', async () => {
    const cs = await harness().centralSystem();
    const cp = await connected(cs, 'PLAIN-1', 500);
    assert.equal(cs.bootOf('PLAIN-1')?.chargePointModel, 'plain-ws');
    const outcome = await cp.startSession(1, 'TAG-P', { maxA: 20, phases: 1 });
    assert.deepEqual([outcome.authorize, outcome.start], ['Accepted', 'Accepted']);
    const state = cs.connectorOf('PLAIN-1', 1);
    assert.equal(state?.status, 'Charging');
    assert.deepEqual(state?.currentA, [20, 0, 0], 'a one-phase car on L1');
    assert.equal(state?.transaction?.transactionId, outcome.transactionId);
    await cp.stopSession(1, { energyWh: 4_321 });
    const sessions: SessionRecord[] = [];
    for await (const session of cs.sessions()) sessions.push(session);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]?.transactionId, outcome.transactionId);
    assert.equal(sessions[0]?.idTag, 'TAG-P');
    assert.equal(sessions[0]?.energyWh, 4_321);
    assert.equal(sessions[0]?.meterStopWh, 4_821);
    assert.equal(cs.openTransactions().length, 0);
    noViolations();
    assert.deepEqual(harness().log.matching(/./, 'error'), [], 'the central system logged no error');
  });

  it('takes the load manager’s limits as profiles: three cars share a 32 A supply line, each charges, none above it', async () => {
    const cs = await harness().centralSystem();
    const { feedErrors, watch } = await onLine(cs, ['PLAIN-1', 'PLAIN-2', 'PLAIN-3'], SUPPLY_A);
    for (const cp of chargers) await cp.startSession(1, `TAG-${cp.identity}`, { maxA: 32, phases: 3 });
    await until(chargers, () => chargers.every((cp) => cp.drawA(1)[0] >= 6));
    const line = lineA(chargers);
    assert.ok(
      line.every((a) => a <= SUPPLY_A + 1e-9),
      `${line.join('/')} A: ${describeDraws(chargers)}`,
    );
    assert.ok(watch.highestA <= SUPPLY_A + 1e-9, `at one moment ${watch.highestA} A: ${watch.at}`);
    assert.deepEqual(feedErrors, []);
    noViolations();
  });

  // The profile manager's rule: decreases go out at once (lib/profiles/manager.ts). The load manager
  // counts the connector at the newest set-point from the moment it sends it.
  it('sends at once a decrease that came while an increase was unanswered: the charger ends at the last set-point', async () => {
    const cs = await harness().centralSystem();
    const profiles = new ChargingProfileManager(cs, { increaseIntervalMs: 0, log: silentLogger });
    cleanups.push(() => profiles.close());
    const cp = await connected(cs, 'PLAIN-1');
    await cp.startSession(1, 'TAG-1', { maxA: 32, phases: 3 });
    const setPoint = (limitA: number) =>
      profiles.apply({
        chargePointId: 'PLAIN-1',
        connectorId: 1,
        limitA,
        phases: 3,
        reason: `test ${limitA} A`,
      });
    await setPoint(10);
    await until(chargers, () => cp.offeredA(1) === 10);
    // The charger is slow to answer: the increase to 13 A is out, unanswered, when the load manager
    // takes it back to 10 A (a car arrived elsewhere).
    const slow = cp.hold('SetChargingProfile');
    const increase = setPoint(13);
    await slow.arrived;
    const decrease = setPoint(10);
    slow.release();
    const reports = await Promise.all([increase, decrease]);
    await until(
      chargers,
      () => cp.offeredA(1) === 10,
      () =>
        `PLAIN-1 offers ${cp.offeredA(1)} A after set-points 13 then 10 A; the profile manager reported ${reports
          .map((r) => `${r[0]?.limitA} A ${r[0]?.outcome}`)
          .join(', ')}; the charger accepted ${cp.accepted
          .map((r) => r.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]?.limit)
          .join(', ')} A`,
      2000,
    );
    noViolations();
  });

  it('keeps the line when a charging charger goes offline: it keeps its TxProfile (3.13.6), its offlineA is reserved', async () => {
    const cs = await harness().centralSystem();
    // The installer declared that a charger on its own (offline) takes at most 16 A; no fallback
    // profile of ours (offline-fallback_spec.ts has that one), so offlineA is all that is known.
    const { manager, watch } = await onLine(
      cs,
      ['PLAIN-1', 'PLAIN-2', 'PLAIN-3'],
      SUPPLY_A,
      { offlineA: 16 },
      { offlineFallbackA: null },
    );
    for (const cp of chargers) await cp.startSession(1, `TAG-${cp.identity}`, { maxA: 32, phases: 3 });
    // The line shared out: a third each (10.6 A).
    await until(chargers, () => chargers.every((cp) => cp.drawA(1)[0] >= 10));
    const [first, gone, third] = chargers as [PlainCharger, PlainCharger, PlainCharger];
    noViolations();

    // PLAIN-2 loses its connection; its car goes on at the limit of its last TxProfile, which is
    // below the 16 A it may take on its own.
    await gone.close();
    const keeps = gone.drawA(1)[0];
    assert.ok(keeps >= 10 && keeps <= 16, `PLAIN-2 draws ${keeps} A offline`);
    // The others share what is left beside the 16 A reserved for it: 8 A each.
    await until(chargers, () => first.drawA(1)[0] <= 8 && third.drawA(1)[0] <= 8);
    assert.ok(first.drawA(1)[0] >= 6 && third.drawA(1)[0] >= 6, describeDraws(chargers));
    const offline = manager.summary().connectors.find((c) => c.chargePointId === 'PLAIN-2');
    assert.match(String(offline?.reason), /offline: counted at 16 A/);
    assert.ok(watch.highestA <= SUPPLY_A + 1e-9, `at one moment ${watch.highestA} A: ${watch.at}`);
    noViolations();
  });

  it('keeps the line when a charger goes offline holding a TxProfile above its offlineA: it goes on at that limit (3.13.6)', async () => {
    const cs = await harness().centralSystem();
    // The load manager on a clock of its own, moved by the test: it decides at once when moved, and
    // the 180 s until an offline charger's last measurement is stale pass without waiting.
    const clock = new ManualClock(Date.now());
    const { manager } = loop(cs, supplyLine(['PLAIN-1', 'PLAIN-2'], SUPPLY_A, { offlineA: 16 }), clock);
    const given: number[] = [];
    manager.on('setPoint', (setPoint) => {
      if (setPoint.chargePointId === 'PLAIN-2') given.push(setPoint.limitA);
    });
    const first = await connected(cs, 'PLAIN-1');
    const second = await connected(cs, 'PLAIN-2');
    const watch = watchLine(chargers);
    cleanups.push(watch.stop);
    // Alone on the line, the first car gets all of it (ramped up over a second): a TxProfile of 32 A.
    await first.startSession(1, 'TAG-1', { maxA: 32, phases: 3 });
    await until(chargers, () => first.drawA(1)[0] >= 6);
    clock.advance(1000);
    await until(chargers, () => first.drawA(1)[0] === SUPPLY_A);
    // Its charger loses the connection and, as 3.13.6 says, keeps that TxProfile for the transaction.
    await first.close();
    assert.equal(first.drawA(1)[0], SUPPLY_A);
    // A second car comes; the line is full.
    await second.startSession(1, 'TAG-2', { maxA: 32, phases: 3 });
    // Long after the offline charger's last measurement, whatever the load manager gave the second
    // charger (it decides as its clock moves), the second charger takes.
    for (let s = 0; s < 200; s++) clock.advance(1000);
    const offline = manager.summary().connectors.find((c) => c.chargePointId === 'PLAIN-1');
    assert.match(String(offline?.reason), /offline/);
    const last = given[given.length - 1] ?? 0;
    await until(chargers, () => second.offeredA(1) === (last >= 6 ? last : 0));
    assert.ok(
      watch.highestA <= SUPPLY_A + 1e-9,
      `the line carried ${watch.highestA} A: ${watch.at}; PLAIN-2 was given ${given.join(', ')} A while PLAIN-1 was ${offline?.reason}`,
    );
    noViolations();
  });
});
