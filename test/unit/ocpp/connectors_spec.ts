import assert from 'node:assert/strict';
import type { Reading } from '../../../lib/contracts';
import { ConnectorRegistry } from '../../../lib/ocpp/connectors';

const reading = (
  timestamp: string,
  currentA: Reading['currentA'],
  extra: Partial<Reading> = {},
): Reading => ({
  source: 'CP-1/1',
  timestamp,
  currentA,
  ...extra,
});

describe('ConnectorRegistry', () => {
  it('keeps the newest status when notifications arrive out of order', () => {
    const registry = new ConnectorRegistry();
    registry.applyStatus(
      'CP-1',
      { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: '2026-01-01T10:05:00Z' },
      '2026-01-01T10:06:00Z',
    );
    const late = registry.applyStatus(
      'CP-1',
      { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: '2026-01-01T10:00:00Z' },
      '2026-01-01T10:06:01Z',
    );
    assert.match(late.ignored ?? '', /status Preparing of 2026-01-01T10:00:00.000Z is older/);
    assert.equal(registry.find('CP-1', 1)?.status, 'Charging');
  });

  it('ignores a batch of readings older than what the connector shows', () => {
    const registry = new ConnectorRegistry();
    registry.applyReadings(
      'CP-1',
      1,
      [reading('2026-01-01T10:05:00Z', [16, 16, 16])],
      '2026-01-01T10:05:01Z',
    );
    const late = registry.applyReadings(
      'CP-1',
      1,
      [reading('2026-01-01T10:00:00Z', [6, 6, 6])],
      '2026-01-01T10:05:02Z',
    );
    assert.ok(late.ignored);
    assert.deepEqual(registry.find('CP-1', 1)?.currentA, [16, 16, 16]);
  });

  it('says when currents were measured: the time of the sample where plausible, else the arrival', () => {
    const registry = new ConnectorRegistry();
    const measuredAt = (sampledAt: string, receivedAt: string) => {
      registry.forgetOrdering('CP-1');
      registry.applyReadings('CP-1', 1, [reading(sampledAt, [10, 10, 10])], receivedAt);
      return registry.find('CP-1', 1)?.measuredAt;
    };
    // Taken before a set-point change, delivered after it: it must not pass for a reading of the new one.
    assert.equal(
      measuredAt('2026-01-01T10:00:00.000Z', '2026-01-01T10:00:03.000Z'),
      '2026-01-01T10:00:00.000Z',
    );
    // A clock ahead of ours, or far behind (or a replay of queued samples): the arrival.
    assert.equal(
      measuredAt('2026-01-01T10:00:09.000Z', '2026-01-01T10:00:04.000Z'),
      '2026-01-01T10:00:04.000Z',
    );
    assert.equal(
      measuredAt('2026-01-01T09:50:00.000Z', '2026-01-01T10:00:05.000Z'),
      '2026-01-01T10:00:05.000Z',
    );
  });

  it('detects the phases a car actually charges on (a single-phase car on a three-phase charger)', () => {
    const registry = new ConnectorRegistry();
    registry.applyStatus(
      'CP-1',
      { connectorId: 1, errorCode: 'NoError', status: 'Charging' },
      '2026-01-01T10:00:00Z',
    );
    registry.applyReadings(
      'CP-1',
      1,
      [reading('2026-01-01T10:01:00Z', [15.8, 0.4, 0.2], { importWh: 1200, totalPowerW: 3630 })],
      '2026-01-01T10:01:00Z',
    );
    const state = registry.find('CP-1', 1);
    assert.deepEqual(state?.activePhases, [1]);
    assert.equal(state?.energyWh, 1200);
    assert.equal(state?.powerW, 3630);
    registry.applyReadings(
      'CP-1',
      1,
      [reading('2026-01-01T10:02:00Z', [15.8, 15.9, 16.1])],
      '2026-01-01T10:02:00Z',
    );
    assert.deepEqual(registry.find('CP-1', 1)?.activePhases, [1, 2, 3]);
    registry.applyStatus(
      'CP-1',
      { connectorId: 1, errorCode: 'NoError', status: 'SuspendedEV' },
      '2026-01-01T10:03:00Z',
    );
    assert.equal(registry.find('CP-1', 1)?.activePhases, undefined);
  });

  it('marks connectors online with their charger, including connectors first heard of later', () => {
    const registry = new ConnectorRegistry();
    registry.get('CP-1', 1);
    assert.deepEqual(
      registry.setOnline('CP-1', true).map((s) => s.connectorId),
      [1],
    );
    assert.equal(registry.get('CP-1', 2).online, true);
    assert.deepEqual(
      registry.setOnline('CP-1', false).map((s) => s.connectorId),
      [1, 2],
    );
  });
});
