import assert from 'node:assert/strict';
import { limitStepOf } from '../../../lib/profiles/limit-step';
import { resolveStrategy, STRATEGY_PRESETS } from '../../../lib/profiles/strategies';
import { refuseProfiles } from './refusals';
import { setPoint, startCharging, useProfileRig } from './support';

/**
 * Issue 39: the step a charger's limits go in follows from its model. The strategy says it (a
 * whole-ampere vendor key that sets the limit, or its `limitStepA`); the profile manager tells the
 * central system, which keeps it on the connector (`ConnectorState.limitStep`) for the load manager.
 */

const EVLINK_R4 = {
  vendorBehaviour: 'schneider-evlink-r4-r5',
  chargePointVendor: 'Schneider Electric',
  chargePointModel: 'EVlink Smart Wallbox',
  firmwareVersion: '2.7.4.18',
} as const;
const EVLINK_R7 = {
  vendorBehaviour: 'schneider-evlink-r6-r7',
  chargePointVendor: 'Schneider Electric',
  chargePointModel: 'EVlink Parking',
  firmwareVersion: 'v3.3.0.7',
} as const;

describe('Profiles: the step a charger model takes its limits in (issue 39)', () => {
  const { rig } = useProfileRig();

  it('whole amperes where a whole-ampere key sets the limit; none for profiles in A', () => {
    const r4 = STRATEGY_PRESETS['schneider-evlink-r4-r5'];
    const r7 = STRATEGY_PRESETS['schneider-evlink-r6-r7'];
    assert.deepEqual(limitStepOf(r4, undefined), {
      stepA: 1,
      why: 'schneider-evlink-r4-r5: maxIntensitySocket takes whole amperes',
    });
    assert.equal(limitStepOf(r7, undefined), undefined, 'its profiles take tenths');
    assert.equal(limitStepOf(r7, 'TxProfile'), undefined);
    assert.equal(limitStepOf(r7, 'ConfigurationKey')?.stepA, 1, 'its key holds the connector');
    for (const name of ['default', 'txdefault', 'huawei', 'necharge', 'abb-terra-ac'] as const)
      assert.equal(limitStepOf(STRATEGY_PRESETS[name], 'TxProfile'), undefined, name);
    const own = resolveStrategy({ preset: 'default', limitStepA: 1 });
    assert.deepEqual(limitStepOf(own, 'TxProfile'), {
      stepA: 1,
      why: 'default takes limits in steps of 1 A',
    });
    assert.throws(
      () => resolveStrategy({ limitStepA: 0 }),
      /strategy\.limitStepA: a current from 0\.1 to 10 A/,
    );
  });

  it('an EVlink R4/R5 picked by its boot: the central system keeps whole amperes on its connector', async () => {
    const { cs, manager } = await rig({ sim: EVLINK_R4 });
    const [report] = await manager.apply(setPoint(10.7));
    assert.equal(report?.outcome, 'applied', report?.error);
    assert.deepEqual(cs.connectorOf('CP1', 1)?.limitStep, {
      stepA: 1,
      why: 'schneider-evlink-r4-r5: maxIntensitySocket takes whole amperes',
    });
  });

  it('an EVlink R6/R7: no step while its profiles hold the connector, whole amperes once its key does', async () => {
    const { cs, cp, manager } = await rig({ sim: EVLINK_R7 });
    await startCharging(cp);
    const [taken] = await manager.apply(setPoint(10.7));
    assert.equal(taken?.method, 'TxProfile', taken?.error);
    assert.equal(cs.connectorOf('CP1', 1)?.limitStep, undefined);
    // "Load balancer is disabled" (HA ocpp #877): every profile refused, the key sets the limit.
    refuseProfiles(cp, () => true);
    const [keyed] = await manager.apply(setPoint(9.5));
    assert.equal(keyed?.method, 'ConfigurationKey', keyed?.error);
    assert.equal(cs.connectorOf('CP1', 1)?.limitStep?.stepA, 1);
  });

  it('a strategy of its own with limitStepA: the step reaches the connector and the limits are rounded to it', async () => {
    const { cs, cp, manager } = await rig({
      manager: { strategy: { preset: 'default', limitStepA: 1 } },
    });
    await startCharging(cp);
    const [report] = await manager.apply(setPoint(10.7));
    assert.equal(report?.outcome, 'applied', report?.error);
    assert.equal(cs.connectorOf('CP1', 1)?.limitStep?.stepA, 1);
    assert.equal(cp.connector(1).offeredA, 10);
  });
});
