import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../lib/clock';
import type { ConnectorState } from '../../../lib/contracts';
import { LoadManager } from '../../../lib/dlm/load-manager';
import { silentLogger } from '../../../lib/log';
import { CentralSystem } from '../../../lib/ocpp/central-system';
import { feedConnectorStates } from '../../../lib/ocpp/connector-feed';
import { RecordingLogger, useOcppHarness } from '../../support/ocpp';

/** A sink that records what a load manager would be fed. */
function sink(ids: string[]) {
  const states: ConnectorState[] = [];
  return {
    states,
    site: { connectors: ids.map((chargePointId) => ({ chargePointId, connectorId: 1 })) },
    connectorState: (state: ConnectorState) => states.push(state),
    batch: (inputs: () => void) => inputs(),
  };
}

describe('connector-state feed (central system -> load manager)', () => {
  const harness = useOcppHarness();

  it('says a charger never connected only once the durable state is loaded, then only for those without a record', async () => {
    const dataDirectory = await mkdtemp(join(tmpdir(), 'ampflow-feed-'));
    const cs = new CentralSystem({
      host: '127.0.0.1',
      port: 0,
      unknownChargePoints: 'accept',
      dataDirectory,
      log: new RecordingLogger(),
    });
    const fed = sink(['SEEN', 'NEW']);
    const stop = feedConnectorStates(cs, fed, assert.fail);
    try {
      assert.equal(fed.states.length, 0, 'not before the central system knows its chargers');
      await cs.start();
      assert.deepEqual(
        fed.states.map((s) => [s.chargePointId, s.neverConnected]),
        [
          ['SEEN', true],
          ['NEW', true],
        ],
      );
      fed.states.length = 0;
      const client = harness().charger(cs, 'SEEN');
      await client.connect();
      // Connected, not yet reported: what it draws has not changed by connecting.
      assert.equal(fed.states.length, 0);
      await client.close();
      fed.states.length = 0;
      await cs.stop();
      await cs.start();
      assert.deepEqual(
        fed.states.filter((s) => s.neverConnected).map((s) => s.chargePointId),
        ['NEW'],
        'a charger with a record is not absent',
      );
    } finally {
      stop();
      await cs.stop();
      await rm(dataDirectory, { recursive: true, force: true });
    }
  });

  it('lets the changes of one turn share one update of a load manager that coalesces its inputs', () => {
    const clock = new ManualClock(Date.parse('2026-11-23T12:00:00Z'));
    const manager = new LoadManager({
      site: {
        circuits: [{ id: 'grid', limitA: 32 }],
        connectors: [1, 2].map((connectorId) => ({ chargePointId: 'CP', connectorId, circuit: 'grid' })),
      },
      clock,
      logger: silentLogger,
      coalesceInputs: true,
    });
    const events = new EventEmitter();
    // The central system's typed connector-state port, fed by this fake's `connector` event.
    const cs = Object.assign(events, {
      log: silentLogger,
      state: 'listening' as const,
      connectors: { all: () => [] },
      chargePoint: () => ({}),
      onConnectorState: (listener: (state: ConnectorState) => void) => {
        events.on('connector', listener);
        return () => events.off('connector', listener);
      },
    });
    const stop = feedConnectorStates(cs, manager, assert.fail);
    manager.start();
    try {
      const before = manager.updateCount;
      const at = new Date(clock.now()).toISOString();
      for (const connectorId of [1, 2])
        cs.emit('connector', {
          chargePointId: 'CP',
          connectorId,
          online: true,
          status: 'Charging',
          lastSeen: at,
          limitInForce: { limitA: 16, since: at },
        });
      assert.equal(manager.updateCount, before, 'not an update per change, at once');
      clock.advance(0);
      assert.equal(manager.updateCount, before + 1);
    } finally {
      stop();
      manager.stop();
    }
  });
});
