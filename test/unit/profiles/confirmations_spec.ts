import assert from 'node:assert/strict';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import type { SetChargingProfileRequest } from '../../../lib/ocpp/messages';
import type { CommandEvent } from '../interop/support';
import { NO_OFFLINE_FALLBACK, setPoint, settled, startCharging, useProfileRig } from './support';

/**
 * When the central system is told that a charger confirmed a limit (`confirmLimit`, the
 * `limitInForce` of its connector state, which the load manager reads): once nothing more is
 * queued for that charger, not between its answer and its next command (confirmations.ts). Each
 * accepted limit is told once, with the limit the charger holds; a charger that goes away
 * mid-queue loses none of what it accepted; nothing it did not accept is ever told.
 */

/** Each answer to a SetChargingProfile (`answer <connector> <limit>`) and each confirmation (`confirm ...`), in order. */
function recordOrder(cs: CentralSystem): string[] {
  const events: string[] = [];
  cs.on('command', (event: CommandEvent) => {
    if (event.action !== 'SetChargingProfile') return;
    const request = event.request as SetChargingProfileRequest;
    const limit = request.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]?.limit;
    const answer = event.response ? (event.response as { status: string }).status : 'no answer';
    events.push(`answer ${request.connectorId} ${limit} ${answer}`);
  });
  const confirmLimit = cs.confirmLimit.bind(cs);
  cs.confirmLimit = (chargePointId, connectorId, limitA) => {
    events.push(`confirm ${connectorId} ${limitA}`);
    confirmLimit(chargePointId, connectorId, limitA);
  };
  return events;
}

const TWO_CONNECTORS = {
  sim: { connectors: 2 },
  manager: { ...NO_OFFLINE_FALLBACK, increaseIntervalMs: 0 },
} as const;

describe('Profiles: confirmations of the limits a charger accepted', () => {
  const { rig } = useProfileRig();

  it('are told once each, with the accepted limit, after the charger answered its last queued command', async () => {
    const r = await rig(TWO_CONNECTORS);
    await startCharging(r.cp, 1);
    await startCharging(r.cp, 2);
    const events = recordOrder(r.cs);
    const reports = await r.manager.apply([setPoint(16), setPoint(10, { connectorId: 2 })]);
    assert.deepEqual(
      reports.map((report) => report.outcome),
      ['applied', 'applied'],
    );
    await settled(r);
    // Before: `confirm 1 16` came between the two answers, on the way to connector 2's command.
    assert.deepEqual(events, [
      'answer 1 16 Accepted',
      'answer 2 10 Accepted',
      'confirm 1 16',
      'confirm 2 10',
    ]);
    assert.equal(r.cs.connectorOf('CP1', 1)?.limitInForce?.limitA, 16);
    assert.equal(r.cs.connectorOf('CP1', 2)?.limitInForce?.limitA, 10);
    assert.deepEqual(
      r.manager.charger('CP1')?.connectors.map((connector) => connector.confirmed),
      [true, true],
    );
  });

  it('are told before the set-point is answered', async () => {
    const r = await rig(TWO_CONNECTORS);
    await startCharging(r.cp, 1);
    const events = recordOrder(r.cs);
    const reported = r.manager.apply(setPoint(16)).then(() => events.push('report'));
    await reported;
    assert.deepEqual(events, ['answer 1 16 Accepted', 'confirm 1 16', 'report']);
  });

  it('are not lost when the charger goes away before its queue is empty, and nothing it did not answer is told', async () => {
    const r = await rig(TWO_CONNECTORS);
    await startCharging(r.cp, 1);
    await startCharging(r.cp, 2);
    const events = recordOrder(r.cs);
    // The charger takes connector 1's limit, and goes off the network when connector 2's arrives.
    r.cp.override('SetChargingProfile', async (request, next) => {
      if (request.connectorId === 2) await r.cp.disconnect();
      return next();
    });
    const reports = await r.manager.apply([setPoint(16), setPoint(10, { connectorId: 2 })]);
    assert.equal(reports[0]?.outcome, 'applied');
    assert.notEqual(reports[1]?.outcome, 'applied');
    await settled(r);
    assert.deepEqual(events, ['answer 1 16 Accepted', 'answer 2 10 no answer', 'confirm 1 16']);
    assert.equal(r.cs.connectorOf('CP1', 1)?.limitInForce?.limitA, 16);
    assert.equal(r.cs.connectorOf('CP1', 2)?.limitInForce, undefined);
  });

  it('tell the limit the charger holds: not a newer one it refused before the queue was empty', async () => {
    const r = await rig(TWO_CONNECTORS);
    await startCharging(r.cp, 1);
    await startCharging(r.cp, 2);
    const events = recordOrder(r.cs);
    // Connector 2's answer waits until connector 1's next set-point (8 A, refused every way) is queued.
    let arrived!: () => void;
    const connector2Arrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    r.cp.override('SetChargingProfile', async (request, next) => {
      if (request.connectorId === 2) {
        arrived();
        await released;
      }
      const limit = request.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]?.limit;
      return limit === 8 ? { status: 'Rejected' } : next();
    });
    const first = r.manager.apply([setPoint(16), setPoint(10, { connectorId: 2 })]);
    await connector2Arrived;
    const second = r.manager.apply(setPoint(8));
    release();
    assert.deepEqual(
      (await first).map((report) => report.outcome),
      ['applied', 'applied'],
    );
    assert.equal((await second)[0]?.outcome, 'failed');
    await settled(r);
    const confirmations = events.filter((event) => event.startsWith('confirm'));
    assert.deepEqual(confirmations, ['confirm 1 16', 'confirm 2 10'], 'never 8 A');
    assert.ok(
      events.indexOf('confirm 1 16') > events.findLastIndex((event) => event.startsWith('answer 1 8')),
      'told after the queue was empty',
    );
    assert.equal(r.cs.connectorOf('CP1', 1)?.limitInForce?.limitA, 16);
  });
});
