import assert from 'node:assert/strict';
import {
  assumedRotationNote,
  reportedRotation,
  rotationMismatch,
} from '../../../lib/dlm/site/rotation-check';

describe('the site’s phase rotation against the charger’s ConnectorPhaseRotation', () => {
  const connector = {
    key: 'CP-1/1',
    chargePointId: 'CP-1',
    connectorId: 1,
    phaseRotation: 'RST',
    phases: 3,
  } as const;

  it('reads the connector’s own item, else connector 0’s (the grid connection); Unknown tells nothing', () => {
    assert.equal(reportedRotation('0.RST, 1.TRS', 1), 'TRS');
    assert.equal(reportedRotation('0.STR', 2), 'STR');
    assert.equal(reportedRotation('0.Unknown', 1), undefined);
    assert.equal(reportedRotation('1.Unknown, 0.RST', 1), undefined);
    assert.equal(reportedRotation(undefined, 1), undefined);
  });

  it('warns naming both where they differ; says nothing where they agree or the charger does not tell', () => {
    assert.match(
      rotationMismatch(connector, '0.RST,1.STR') ?? '',
      /charger CP-1 reports STR while the site says RST/,
    );
    assert.equal(rotationMismatch(connector, '0.RST,1.RST'), undefined);
    assert.equal(rotationMismatch(connector, '1.Unknown'), undefined);
    assert.match(
      rotationMismatch(connector, '1.NotApplicable') ?? '',
      /NotApplicable \(a single-phase connector\)/,
    );
  });

  it('a single-phase connector agrees with NotApplicable or any rotation that puts its L1 on the same grid phase', () => {
    const single = { ...connector, phases: 1 } as const;
    assert.equal(rotationMismatch(single, '1.NotApplicable'), undefined);
    assert.equal(rotationMismatch(single, '1.RTS'), undefined);
    assert.match(rotationMismatch(single, '1.SRT') ?? '', /reports SRT while the site says RST/);
  });

  it('says RST is assumed for the connectors that leave phaseRotation out, naming them', () => {
    assert.match(
      assumedRotationNote([
        { chargePointId: 'A', circuit: 'x' },
        { chargePointId: 'B', connectorId: 2, circuit: 'x', phaseRotation: 'TRS' },
        { chargePointId: 'C', connectorId: 2, circuit: 'x', phaseRotation: '' },
      ]) ?? '',
      /^not given for "A\/1", "C\/2": RST assumed/,
    );
    assert.equal(assumedRotationNote([{ chargePointId: 'A', phaseRotation: 'RST' }]), undefined);
  });
});
