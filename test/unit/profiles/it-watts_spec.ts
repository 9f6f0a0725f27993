import assert from 'node:assert/strict';
import type { SiteConfig } from '../../../lib/dlm/site/config';
import { checkSetPoint } from '../../../lib/profiles/reports';
import { harness } from '../dlm/support';
import { profilesSent, setPoint, startCharging, useProfileRig } from './support';

/**
 * Chargers that take their limit in watts on an IT network (3×230 V without a neutral): a
 * three-phase car draws √3 × 230 V × I, so watts are A × 230 V / √3 × phases there. The load
 * manager names those volts in each set-point (SetPoint.voltageV) and the charging-profile node
 * converts with them, not with its own Voltage setting (230 by default, which would let such a
 * charger draw 1.7 times its limit).
 */
const IT_VOLTS = 230 / Math.sqrt(3);

function site(network: 'TN' | 'IT'): SiteConfig {
  return {
    network,
    circuits: [{ id: 'main', limitA: 40, meter: { source: 'grid', location: 'includesChargers' } }],
    connectors: [{ chargePointId: 'HW-1', circuit: 'main', maxA: 16 }],
  };
}

describe('Profiles: watts on an IT network', () => {
  it('the load manager names the volts per ampere of an IT site in its set-points, and none on TN', () => {
    for (const network of ['IT', 'TN'] as const) {
      const h = harness(site(network));
      h.start();
      h.feed(() => h.meter('grid', [0, 0, 0]));
      h.plugIn('HW-1/1');
      h.run(30_000);
      const last = h.sent.at(-1);
      assert.ok(last && last.limitA > 0, `${network}: a set-point`);
      if (network === 'IT') assert.ok(Math.abs((last.voltageV ?? 0) - IT_VOLTS) < 1e-9, `${last.voltageV}`);
      else assert.equal(last.voltageV, undefined);
    }
  });

  it('refuses volts that are not a voltage, naming the field', () => {
    assert.throws(
      () => checkSetPoint({ ...setPoint(10), voltageV: 'x' }),
      /voltageV must be a number of volts/,
    );
    assert.throws(
      () => checkSetPoint({ ...setPoint(10), voltageV: 5 }),
      /voltageV must be a number of volts/,
    );
    assert.equal(checkSetPoint({ ...setPoint(10), voltageV: IT_VOLTS }).voltageV, IT_VOLTS);
  });

  const { rig } = useProfileRig();

  it('sends a watt charger A × the set-point’s volts × phases, and A × its Voltage setting without them', async () => {
    const { cp, manager, commands } = await rig({
      sim: { vendorBehaviour: 'huawei', chargePointVendor: 'HUAWEI', chargePointModel: 'SCharger-22KT-S0' },
    });
    await startCharging(cp, 1, { phases: 3, maxCurrentA: 32, followDelayMs: 5000 });
    let before = commands.length;
    const [onIt] = await manager.apply(setPoint(16, { phases: 3, voltageV: IT_VOLTS }));
    assert.equal(onIt?.outcome, 'applied', onIt?.error);
    let sent = profilesSent(commands, before).at(-1)?.csChargingProfiles;
    assert.equal(sent?.chargingSchedule.chargingRateUnit, 'W');
    // 16 A × 132.8 V × 3 = 6,374 W (√3 × 230 V × 16 A), not 11,040 W.
    const watts = sent?.chargingSchedule.chargingSchedulePeriod[0]?.limit ?? 0;
    assert.ok(watts <= 16 * IT_VOLTS * 3 && watts > 16 * IT_VOLTS * 3 - 0.3, `${watts} W`);
    before = commands.length;
    const [onTn] = await manager.apply(setPoint(15, { phases: 3 }));
    assert.equal(onTn?.outcome, 'applied', onTn?.error);
    sent = profilesSent(commands, before).at(-1)?.csChargingProfiles;
    assert.equal(sent?.chargingSchedule.chargingSchedulePeriod[0]?.limit, 15 * 230 * 3);
  });
});
