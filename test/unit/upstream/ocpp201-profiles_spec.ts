import assert from 'node:assert/strict';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { until } from '../../support/events';
import { useUpstreamSite } from './support';
import { Backend201, charger201 } from './support201';

/**
 * A 2.0.1 backend's charging profiles for a 2.0.1 charger that a load manager manages: kept by
 * ampflow and composed with the load manager's limit (the connector's operatorLimitA), never sent
 * to the charger, answered as a charger would. Independent charger (ws + typed-ocpp) and a strict
 * ocpp-rpc 2.0.1 backend, over real WebSockets on 127.0.0.1.
 */

type Payload = Record<string, unknown>;

/**
 * A 2.0.1 TxProfile of `limitA` for the charger's transaction `transactionId`: Absolute from 2020
 * (the proxy's ManualClock and the transaction's wall-clock start need not agree on "now").
 */
const txProfile = (id: number, limitA: number, transactionId?: string): Payload => ({
  id,
  stackLevel: 3,
  chargingProfilePurpose: 'TxProfile',
  chargingProfileKind: 'Absolute',
  ...(transactionId === undefined ? {} : { transactionId }),
  chargingSchedule: [
    {
      id,
      startSchedule: '2020-01-01T00:00:00.000Z',
      chargingRateUnit: 'A',
      chargingSchedulePeriod: [{ startPeriod: 0, limit: limitA }],
    },
  ],
});

describe('upstream proxy: a 2.0.1 backend’s charging profiles composed with the load manager’s', () => {
  const { interop, site } = useUpstreamSite(() => new Backend201());

  /** A site whose load manager manages every charger (the backend's limits are composed). */
  async function composedSite() {
    const parts = await site({ smartCharging: 'compose' });
    const undo = parts.cs.composeOperatorLimits(() => true);
    const charger = charger201(parts.cs, 'CS201', (c) => interop.track(c));
    await charger.connect();
    assert.equal((await charger.boot()).status, 'Accepted');
    return { ...parts, charger, undo };
  }

  const operatorLimit = (cs: CentralSystem) => cs.connectorOf('CS201', 1)?.operatorLimitA;

  it('keeps a TxProfile for the running transaction, refuses one for another transaction or an external constraint, clears it', async () => {
    const { backend, cs, charger, undo } = await composedSite();
    try {
      const { transactionId } = await charger.startTransaction(1, 'TAG-201', { meterWh: 1000 });
      const set = (chargingProfile: Payload) =>
        backend.call('CS201', 'SetChargingProfile', { evseId: 1, chargingProfile });

      assert.deepEqual(await set(txProfile(41, 10, transactionId)), { status: 'Accepted' });
      assert.equal(operatorLimit(cs), 10, 'the load manager gives the connector no more than 10 A');

      assert.deepEqual(await set(txProfile(42, 6, 'NOT-RUNNING')), { status: 'Rejected' });
      const external = { ...txProfile(43, 4), chargingProfilePurpose: 'ChargingStationExternalConstraints' };
      assert.deepEqual(await set(external), { status: 'Rejected' });
      assert.equal(operatorLimit(cs), 10, 'neither refused profile counts');

      assert.deepEqual(await backend.call('CS201', 'ClearChargingProfile', { chargingProfileId: 41 }), {
        status: 'Accepted',
      });
      assert.equal(operatorLimit(cs), undefined, 'cleared: no limit of the backend’s');
      assert.deepEqual(await backend.call('CS201', 'ClearChargingProfile', { chargingProfileId: 41 }), {
        status: 'Unknown',
      });
      assert.deepEqual(
        charger.received.filter((r) => /ChargingProfile/.test(r.action)).map((r) => r.action),
        [],
        'the charger got none of the backend’s profiles',
      );
      assert.deepEqual(backend.badMessages, []);
      assert.deepEqual(charger.violations, []);
    } finally {
      undo();
    }
  });

  it('keeps the profile of a RequestStartTransaction for the transaction it starts; the start goes without it', async () => {
    const { backend, cs, charger, undo } = await composedSite();
    try {
      const start = {
        idToken: { idToken: 'REMOTE-1', type: 'Central' },
        remoteStartId: 7,
        evseId: 1,
        chargingProfile: txProfile(51, 8),
      };
      assert.deepEqual(await backend.call('CS201', 'RequestStartTransaction', start), { status: 'Accepted' });
      const [received] = charger.received.filter((r) => r.action === 'RequestStartTransaction');
      assert.ok(received, 'the start reached the charger');
      assert.equal((received.payload as Payload).chargingProfile, undefined, 'the start went without it');
      await until(
        () => operatorLimit(cs) === 8,
        [[cs, 'connector']],
        5000,
        () => `operator limit ${operatorLimit(cs)}`,
      );
      assert.deepEqual(backend.badMessages, []);
    } finally {
      undo();
    }
  });
});
