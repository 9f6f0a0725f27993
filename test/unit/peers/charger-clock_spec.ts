import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { chargerClocksOf } from '../../../lib/ocpp/charger-clocks';
import { ChargingProfileManager } from '../../../lib/profiles';
import { usePeerCarPark } from '../../support/peer-site';
import { VoltbrasCharger } from '../../support/voltbras-charger';

/**
 * A charger whose clock is wrong (an EVlink on manual time): its set-point profiles must hold while
 * it is connected and end when the fallback's time says, in ampflow's time, however far its clock
 * is off. The charger is built on @voltbras/ts-ocpp and keeps its profiles as OCPP 1.6 writes
 * (test/support/charger-profiles.ts: validTo and startSchedule read on its own clock).
 */
describe('a charger whose clock is 5 minutes off (@voltbras/ts-ocpp)', () => {
  const clock = new ManualClock(Date.parse('2026-11-26T08:00:00Z'));
  const { harness, chargers, cleanups } = usePeerCarPark(
    (identity, options) => new VoltbrasCharger(identity, { ...options, now: () => clock.now() }),
  );

  async function setUp(identity: string, offsetMs: number) {
    const cs = await harness().centralSystem({ clock });
    chargerClocksOf(cs); // as the central-system node does at its start: its measurement logs
    const manager = new ChargingProfileManager(cs, { clock, increaseIntervalMs: 0, log: harness().log });
    cleanups.push(() => manager.close());
    const cp = new VoltbrasCharger(identity, { connectors: 1, now: () => clock.now() + offsetMs });
    chargers.push(cp);
    await cp.connect(`ws://127.0.0.1:${cs.port}${cs.pathPrefix}`);
    return { cs, cp, manager };
  }

  /** Connected an hour at 32 A, then lost: the lowest offer while connected, and how long (ampflow's s) until 6 A. */
  async function run(cs: CentralSystem, cp: VoltbrasCharger, manager: ChargingProfileManager) {
    await cp.startSession(1, 'TAG-1', { maxA: 32, phases: 3 });
    await manager.apply({ chargePointId: cp.identity, connectorId: 1, limitA: 32, reason: 'test' });
    await manager.whenSettled(cp.identity);
    let lowest = cp.offeredA(1);
    for (let s = 0; s < 3600; s += 10) {
      clock.advance(10_000);
      await manager.whenSettled(cp.identity);
      lowest = Math.min(lowest, cp.offeredA(1));
    }
    assert.equal(cs.connectorOf(cp.identity, 1)?.offlineFallback?.afterS, 300);
    await cp.close();
    let fallenS = 0;
    while (cp.offeredA(1) > 6 && fallenS < 3600) {
      clock.advance(1000);
      fallenS += 1;
    }
    return { lowest, fallenS };
  }

  it('5 min ahead: measured +300 s and warned; its set-point holds 32 A for the hour, and it falls to 6 A within 300 s of being lost', async () => {
    const { cs, cp, manager } = await setUp('EVLINK-AHEAD', 300_000);
    const { lowest, fallenS } = await run(cs, cp, manager);
    assert.equal(Math.round(chargerClocksOf(cs).offsetMs(cp.identity) / 1000), 300);
    assert.equal(lowest, 32, 'never at its fallback while connected');
    assert.ok(fallenS > 150 && fallenS <= 300, `fell to 6 A ${fallenS} s after it was lost`);
    assert.equal(
      harness().log.matching(/EVLINK-AHEAD: its clock is 300 s ahead of ampflow's/, 'warn').length,
      1,
    );
    assert.deepEqual(cp.violations, []);
  });

  it('5 min behind: measured -300 s; its set-point holds from the first (no schedule in its future), and it falls to 6 A within 300 s, not 600 s', async () => {
    const { cs, cp, manager } = await setUp('EVLINK-BEHIND', -300_000);
    const { lowest, fallenS } = await run(cs, cp, manager);
    assert.equal(Math.round(chargerClocksOf(cs).offsetMs(cp.identity) / 1000), -300);
    assert.equal(lowest, 32, 'never at its fallback while connected');
    assert.ok(fallenS > 150 && fallenS <= 300, `fell to 6 A ${fallenS} s after it was lost`);
    assert.equal(
      harness().log.matching(/EVLINK-BEHIND: its clock is 300 s behind ampflow's/, 'warn').length,
      1,
    );
    assert.deepEqual(cp.violations, []);
  });
});
