import assert from 'node:assert/strict';
import type { ConnectorState } from '../../../lib/contracts';
import { CentralSystem } from '../../../lib/ocpp/central-system';

/** The central system's typed connector-state port (issue #47: no event name on the way to the load manager). */
describe('CentralSystem: the connector-state port', () => {
  const state: ConnectorState = {
    chargePointId: 'CP-1',
    connectorId: 1,
    online: true,
    status: 'Charging',
    lastSeen: '2026-11-26T12:00:00.000Z',
  };

  it('gives each change to its listeners before the flows’ connector event, until they unsubscribe', () => {
    const cs = new CentralSystem({ host: '127.0.0.1', port: 0 });
    const heard: string[] = [];
    const unsubscribe = cs.onConnectorState((s) => heard.push(`port ${s.chargePointId}/${s.connectorId}`));
    cs.on('connector', (s) => heard.push(`event ${s.chargePointId}/${s.connectorId}`));
    cs.connectorChanged(state);
    unsubscribe();
    cs.connectorChanged(state);
    assert.deepEqual(heard, ['port CP-1/1', 'event CP-1/1', 'event CP-1/1']);
  });
});
