import assert from 'node:assert/strict';
import type { SiteConfig } from '../../../lib/dlm/site';
import { until } from '../../support/events';
import type { EvpowerCharger } from '../../support/evpower-charger';
import { useEvpowerLine } from '../../support/peer-site';

/**
 * Issue 37: Bender's free-charging modes 2 and 3 (vendor doc 002 §5.2): with no transaction id
 * "the charge point will only send status messages": no StartTransaction, no MeterValues, a car
 * charging is a connector that says Charging. Two such chargers on @evpower/ocpp-ts share a 32 A
 * line under the load manager and the charging-profile manager: each is held by a TxDefaultProfile
 * (a TxProfile needs a transaction), the line holds, and a car that leaves frees its current.
 */

const LINE_A = 32;
const ids = ['BENDER-M2', 'BENDER-M3'];
const site: SiteConfig = {
  circuits: [{ id: 'line', limitA: LINE_A }],
  connectors: ids.map((chargePointId) => ({ chargePointId, circuit: 'line', maxA: 32 })),
  unbalanceLimitA: null,
  // These chargers follow a limit within 2 s (the installer's figure): with no reading of their
  // own, only that time settles a decrease (the shipped 60 s is the careful default).
  control: { rampUpAPerS: 1000, minUpdateIntervalMs: 0, decreaseSettleMs: 2_000 },
};

describe('free charging that sends only status messages (Bender modes 2 and 3, @evpower/ocpp-ts)', () => {
  const line = useEvpowerLine();

  it('holds two chargers with no transaction to the line by their TxDefaultProfiles, and frees a leaving car’s current', async function () {
    this.timeout(90_000);
    const { cs, wired, chargers, highestA, wake, state } = await line(ids, site);
    const [m2, m3] = chargers as [EvpowerCharger, EvpowerCharger];

    // Installed before any car comes: each holds its idle limit first, as a charger does soon after
    // its boot (a car plugged in before any profile lands draws its maximum).
    await until(() => chargers.every((cp) => cp.limitA(1) === 0), wake, 10_000, state);
    // One car alone takes the line; the second one's start waits until the first one's decrease
    // is taken (its follow time: no reading tells), whatever the order the profiles land in.
    await m2.plugInFree(1, { maxA: 32, phases: 3 });
    await until(() => m2.limitA(1) === 32, wake, 10_000, state);
    await m3.plugInFree(1, { maxA: 32, phases: 3 });
    // (A bound, not a wait: the first car's decrease is taken once the charger confirmed it and
    // its 2 s passed; on a loaded machine the confirmation itself took longer than 10 s once.)
    await until(() => m2.limitA(1) === 16 && m3.limitA(1) === 16, wake, 30_000, state);
    assert.ok(highestA() <= LINE_A, `the line carried ${highestA()} A`);
    assert.deepEqual(m2.drawA(1), [16, 16, 16]);
    assert.deepEqual(m3.drawA(1), [16, 16, 16]);
    assert.equal(cs.connectorOf('BENDER-M2', 1)?.status, 'Charging');
    assert.equal(
      cs.connectorOf('BENDER-M2', 1)?.transaction,
      undefined,
      'no transaction: status messages only',
    );
    // Held by TxDefaultProfiles only, never a TxProfile (it has no transaction).
    const purposes = new Set(
      chargers.flatMap((cp) => cp.profiles.map((p) => p.csChargingProfiles.chargingProfilePurpose)),
    );
    assert.equal(purposes.has('TxProfile'), false, [...purposes].join(', '));

    // The car at M3 leaves (Finishing, Available): M2 gets the line.
    await m3.unplugFree(1);
    await until(() => m2.limitA(1) === 32, wake, 10_000, state);
    assert.deepEqual(m2.drawA(1), [32, 32, 32]);
    assert.ok(highestA() <= LINE_A, `the line carried ${highestA()} A`);
    assert.deepEqual(wired.feedErrors, []);
  });
});
