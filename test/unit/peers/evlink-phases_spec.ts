import assert from 'node:assert/strict';
import type { SiteConfig } from '../../../lib/dlm/site';
import { until } from '../../support/events';
import type { EvpowerCharger } from '../../support/evpower-charger';
import { usePeerChargers } from '../../support/peer-site';

/**
 * Issue 37: an EVlink preset charger reports per-phase currents to the load manager. The charger
 * is built on @evpower/ocpp-ts (not written here, not ocpp-rpc) and meters as the Schneider EVlink
 * OCPP guide (vendor doc 003 §8) says: `Current.Import` without a phase, the phase forms only where
 * MeterValuesSampledData lists them. It boots as an R7 station, so `auto` picks the
 * schneider-evlink-r6-r7 preset; the profile manager asks it for Current.Import.L1/.L2/.L3 and the
 * load manager then counts a single-phase car on one grid phase, not on all three.
 */

const site: SiteConfig = {
  circuits: [{ id: 'line', limitA: 32 }],
  connectors: [{ chargePointId: 'EVLINK-1', circuit: 'line', maxA: 32 }],
  unbalanceLimitA: null,
  control: { rampUpAPerS: 1000, minUpdateIntervalMs: 0 },
};

describe('an EVlink preset charger reports per-phase currents to the load manager (@evpower/ocpp-ts)', () => {
  const peers = usePeerChargers();

  it('asked for Current.Import.L1/.L2/.L3, a 16 A single-phase car counts on L1 only', async function () {
    this.timeout(20_000);
    const { cs, wired, chargers } = await peers.evpower(['EVLINK-1'], site, { evlink: true });
    const { manager, feedErrors } = wired;
    const cp = chargers[0] as EvpowerCharger;

    // The profile manager asks once per boot; the charger keeps what it is told.
    await until(
      () => cs.connectorOf('EVLINK-1', 1)?.sampling !== undefined,
      [[cs, 'connector']],
      10_000,
      () => `no sampling outcome: ${JSON.stringify(cs.connectorOf('EVLINK-1', 1))}`,
    );
    const sampling = cs.connectorOf('EVLINK-1', 1)?.sampling;
    assert.equal(sampling?.perPhaseCurrents, true, JSON.stringify(sampling));
    const asked = cp.written('MeterValuesSampledData').split(',');
    for (const phase of ['L1', 'L2', 'L3'])
      assert.ok(asked.includes(`Current.Import.${phase}`), asked.join(','));

    assert.equal(await cp.startSession(1, 'TAG-1', { maxA: 16, phases: 1 }), 'Accepted');
    const drawOf = () => manager.summary().connectors.find((c) => c.chargePointId === 'EVLINK-1')?.drawA;
    await until(
      () => drawOf()?.[0] === 16,
      [
        [cs, 'connector'],
        [manager, 'summary'],
      ],
      10_000,
      () => `the load manager's draw: ${JSON.stringify(drawOf())}`,
    );
    // The charger's own words: currents per phase, no unphased one.
    assert.deepEqual(cs.connectorOf('EVLINK-1', 1)?.currentA, [16, 0, 0]);
    assert.equal(cs.connectorOf('EVLINK-1', 1)?.currentUnphasedA, undefined);
    assert.deepEqual(drawOf(), [16, 0, 0], 'counted on L1 only, not 16 A on every phase');
    assert.deepEqual(feedErrors, []);
  });
});
