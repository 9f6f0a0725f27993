import assert from 'node:assert/strict';
import type { SessionRecord } from '../../../lib/contracts';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { Cars201 } from '../../support/car201';
import { Charger201 } from '../../support/charger201';
import { describeDraws, lineA, supplyLine, until, usePeerCarPark, watchLine } from '../../support/peer-site';
import { PlainCharger } from '../../support/plain-charger';

/**
 * A mixed car park: an OCPP 1.6 charger (plain-charger.ts, on ws) and an OCPP 2.0.1 charger
 * (charger201.ts: ws and typed-ocpp's OCA 2.0.1 schemas, nothing of ocpp-rpc) on one supply line,
 * under one load manager and one charging-profile manager. Both cars get their share, the line
 * holds, the 2.0.1 charger takes its limits as 2.0.1 profiles (verified by its composite schedule)
 * and its session ends in the same charge data records.
 */

const SUPPLY_A = 32;

describe('a mixed car park: OCPP 1.6 and OCPP 2.0.1 chargers on one supply line', () => {
  const { harness, chargers, cleanups, connected, loop } = usePeerCarPark(
    (identity, options) => new PlainCharger(identity, options),
  );

  async function charger201(cs: CentralSystem, identity: string): Promise<Cars201> {
    const charger = new Charger201({ url: `ws://127.0.0.1:${cs.port}${cs.pathPrefix}`, identity });
    cleanups.push(() => charger.close());
    await charger.connect();
    const boot = await charger.boot();
    assert.equal(boot.status, 'Accepted');
    await charger.status(1, 'Available');
    return new Cars201(charger);
  }

  it('shares the line between both, holds it, and records the 2.0.1 session with its own id', async function () {
    this.timeout(30_000);
    const cs = await harness().centralSystem();
    // A car that leaves frees its current once the load manager sees its charger follow the 0 A it
    // sends then, or after the charger's response time: learned (5 s at least) where it was seen
    // following a decrease before, decreaseSettleMs (60 s by default) where it was not. Whether it
    // was depends on the order the two cars got their shares in; 5 s keeps the test short either way.
    const site = supplyLine(['PLAIN-1', 'CS201-1'], SUPPLY_A);
    site.control = { ...site.control, decreaseSettleMs: 5_000 };
    const { feedErrors, manager } = loop(cs, site);
    const plain = await connected(cs, 'PLAIN-1');
    const cars = await charger201(cs, 'CS201-1');
    const all = [plain, cars];
    const watch = watchLine(all);
    cleanups.push(watch.stop);
    assert.equal(cs.chargePoint('CS201-1')?.protocol, 'ocpp2.0.1');

    await plain.startSession(1, 'TAG-16', { maxA: 32, phases: 3 });
    const txId = await cars.plugIn(1, 'TAG-201', { maxA: 32, phases: 3 });
    // Each gets a share; the 2.0.1 car charges at what its own profiles offer.
    await until(all, () => plain.drawA(1)[0] >= 6 && (cars.drawA(1)[0] ?? 0) >= 6);
    await until(all, () => lineA(all).every((a) => a <= SUPPLY_A + 1e-9));
    assert.ok(watch.highestA <= SUPPLY_A + 1e-9, `at one moment ${watch.highestA} A: ${watch.at}`);
    const state = cs.connectorOf('CS201-1', 1);
    assert.equal(state?.status, 'Charging');
    assert.equal(state?.transaction?.idTag, 'TAG-201');
    // The central system reads the 2.0.1 car's draw from its TransactionEvents.
    await until(all, () => cs.connectorOf('CS201-1', 1)?.currentA?.[0] === cars.drawA(1)[0]);

    // Its limits went out as 2.0.1 SetChargingProfile, per EVSE, and the charger took them.
    const profiles = cars.charger.received.filter((call) => call.action === 'SetChargingProfile');
    assert.ok(profiles.length > 0, 'the 2.0.1 charger got a profile');
    assert.ok(profiles.every((call) => (call.response as { status: string }).status === 'Accepted'));

    // The 1.6 car leaves: the 2.0.1 car gets the whole line.
    // The freed current is given out once the load manager sees the 1.6 car gone (above).
    await plain.stopSession(1, { energyWh: 2_000 });
    await until(
      all,
      () => cars.drawA(1)[0] === SUPPLY_A,
      () =>
        `${describeDraws(all)}; set-points ${JSON.stringify(manager.setPoints())}; CS201-1 got ${cars.charger.received
          .filter((call) => call.action.endsWith('ChargingProfile'))
          .map((call) => `${call.action} ${JSON.stringify(call.payload)} -> ${JSON.stringify(call.response)}`)
          .join(' | ')}`,
      20_000,
    );
    await cars.leave(1, 7_400);
    const sessions: SessionRecord[] = [];
    for await (const session of cs.sessions()) sessions.push(session);
    const ours = sessions.find((session) => session.chargePointId === 'CS201-1');
    assert.equal(ours?.chargerTransactionId, txId);
    assert.equal(ours?.energyWh, 7_400);
    assert.ok(watch.highestA <= SUPPLY_A + 1e-9, `at one moment ${watch.highestA} A: ${watch.at}`);
    assert.deepEqual(feedErrors, []);
    assert.deepEqual(cars.charger.violations, [], 'the central system against OCPP 2.0.1');
    for (const cp of chargers) assert.deepEqual(cp.violations, [], `${cp.identity} against OCPP 1.6`);
    assert.deepEqual(harness().log.matching(/./, 'error'), [], 'the central system logged no error');
  });

  it('gives a car that said over ISO 15118 it takes at most 10 A no more, and the rest of the line to the other', async function () {
    this.timeout(30_000);
    const cs = await harness().centralSystem();
    const { manager, feedErrors } = loop(cs, supplyLine(['PLAIN-1', 'CS201-1'], SUPPLY_A));
    const plain = await connected(cs, 'PLAIN-1');
    const cars = await charger201(cs, 'CS201-1');
    const all = [plain, cars];
    await cars.charger.status(1, 'Occupied');
    const departureTime = new Date(Date.now() + 3 * 3600_000).toISOString();
    const needs = await cars.charger.send('NotifyEVChargingNeeds', {
      evseId: 1,
      chargingNeeds: {
        requestedEnergyTransfer: 'AC_three_phase',
        departureTime,
        acChargingParameters: { energyAmount: 20_000, evMinCurrent: 6, evMaxCurrent: 10, evMaxVoltage: 400 },
      },
    });
    assert.equal(needs.status, 'Accepted');
    assert.deepEqual(
      { ...cs.connectorOf('CS201-1', 1)?.carNeeds, at: undefined },
      {
        at: undefined,
        phases: 3,
        maxA: 10,
        minA: 6,
        energyWh: 20_000,
        departureTime,
      },
    );
    await plain.startSession(1, 'TAG-16', { maxA: 32, phases: 3 });
    await cars.plugIn(1, 'TAG-201', { maxA: 32, phases: 3 });
    await until(all, () => cars.offeredA(1) === 10 && plain.offeredA(1) === SUPPLY_A - 10);
    const setPoint = manager.setPoints().find((point) => point.chargePointId === 'CS201-1');
    assert.match(setPoint?.reason ?? '', /the car takes at most 10 A \(ISO 15118\)/);
    // Its session ends: what it said is forgotten with it.
    await cars.leave(1, 5_000);
    assert.equal(cs.connectorOf('CS201-1', 1)?.carNeeds, undefined);
    assert.deepEqual(feedErrors, []);
    assert.deepEqual(cars.charger.violations, []);
  });
});
