import assert from 'node:assert/strict';
import { validateSite } from '../../lib/dlm/site';
import { ACTIVE_PHASE_A, IEC_61851_MINIMUM_A, NOMINAL_VOLTAGE_V } from '../../lib/electrical';
import { activePhases } from '../../lib/ocpp/connectors';
import { parseProfileSettings } from '../../lib/profiles/settings';

/**
 * One owner per rule (issue #13): lib/electrical.ts decides the nominal voltage, the IEC 61851
 * minimum and when a phase counts as used; each room that needs them follows it.
 */
describe('the electrical rules have one owner', () => {
  it('the nominal voltage: the site model and the charging-profile settings default to it', () => {
    const site = validateSite({ circuits: [{ id: 'grid', limitA: 32 }], connectors: [] }).site;
    assert.equal(site?.voltageV, NOMINAL_VOLTAGE_V);
    assert.equal(parseProfileSettings({}).voltageV, NOMINAL_VOLTAGE_V);
  });

  it('the IEC 61851 minimum: a connector of the site model needs at least it by default', () => {
    const site = validateSite({
      circuits: [{ id: 'grid', limitA: 32 }],
      connectors: [{ chargePointId: 'CP-1', circuit: 'grid' }],
    }).site;
    assert.equal(site?.connectors[0]?.minA, IEC_61851_MINIMUM_A);
  });

  it('a phase counts as used above the threshold, for the central system as for the load manager', () => {
    assert.deepEqual(activePhases([ACTIVE_PHASE_A + 0.1, ACTIVE_PHASE_A, 0]), [1]);
  });
});
