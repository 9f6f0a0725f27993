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

  it('says when its energy register was read, apart from its currents (issue 45: a charger that reports its register only)', () => {
    const registry = new ConnectorRegistry();
    registry.applyReadings(
      'CP-1',
      1,
      [
        reading('2026-01-01T10:00:00.000Z', undefined, { importWh: 1000 }),
        reading('2026-01-01T10:00:05.000Z', undefined, { socPercent: 40 }),
      ],
      '2026-01-01T10:00:06.000Z',
    );
    assert.equal(registry.find('CP-1', 1)?.energyWh, 1000);
    assert.equal(registry.find('CP-1', 1)?.energyAt, '2026-01-01T10:00:00.000Z', 'the reading that had it');
    registry.applyReadings(
      'CP-1',
      1,
      [reading('2026-01-01T10:00:30.000Z', undefined, { importWh: 1025 })],
      '2026-01-01T10:00:11.000Z',
    );
    assert.equal(
      registry.find('CP-1', 1)?.energyAt,
      '2026-01-01T10:00:11.000Z',
      'a clock ahead of ours: the arrival',
    );
  });

  it('keeps when currents were measured through a reading without currents (issue 46: a Current.Import of NaN is skipped)', () => {
    const registry = new ConnectorRegistry();
    registry.applyReadings(
      'CP-1',
      1,
      [reading('2026-01-01T10:00:00.000Z', [10, 10, 10])],
      '2026-01-01T10:00:01.000Z',
    );
    // The energy register alone, its currents unreadable: the 10 A of 10:00:00 are no newer for it.
    registry.applyReadings(
      'CP-1',
      1,
      [{ source: 'CP-1/1', timestamp: '2026-01-01T10:00:30.000Z', importWh: 1_000 }],
      '2026-01-01T10:00:31.000Z',
    );
    const state = registry.find('CP-1', 1);
    assert.equal(state?.measuredAt, '2026-01-01T10:00:00.000Z');
    assert.equal(state?.energyWh, 1_000);
    assert.equal(state?.energyAt, '2026-01-01T10:00:30.000Z', 'the register has a time of its own');
    assert.deepEqual(state?.currentA, [10, 10, 10]);
  });

  it('keeps a current reported without a phase while the charger sends none per phase (issue 36)', () => {
    const registry = new ConnectorRegistry();
    const at = (s: number) => `2026-01-01T10:00:${String(s).padStart(2, '0')}Z`;
    registry.applyReadings('CP-1', 1, [reading(at(0), undefined, { currentUnphasedA: 13.2 })], at(1));
    assert.equal(registry.find('CP-1', 1)?.currentUnphasedA, 13.2);
    assert.equal(registry.find('CP-1', 1)?.currentA, undefined);
    // Asked for the phase forms, it sends them: those count, the unphased one is gone.
    registry.applyReadings('CP-1', 1, [reading(at(10), [12, 13, 14], { currentUnphasedA: 13 })], at(11));
    assert.deepEqual(registry.find('CP-1', 1)?.currentA, [12, 13, 14]);
    assert.equal(registry.find('CP-1', 1)?.currentUnphasedA, undefined);
    registry.applyReadings('CP-1', 1, [reading(at(20), undefined, { currentUnphasedA: 6 })], at(21));
    assert.equal(registry.find('CP-1', 1)?.currentUnphasedA, 6);
    assert.equal(registry.find('CP-1', 1)?.currentA, undefined);
  });

  it('keeps the last stop of a connector until the next transaction (a departure, issue 36)', () => {
    const registry = new ConnectorRegistry();
    const transaction = {
      transactionId: 7,
      idTag: 'TAG',
      startedAt: '2026-01-01T10:00:00Z',
      meterStartWh: 0,
    };
    registry.bindTransaction('CP-1', 1, transaction);
    registry.applyReadings(
      'CP-1',
      1,
      [reading('2026-01-01T10:01:00Z', undefined, { currentUnphasedA: 16 })],
      '2026-01-01T10:01:00Z',
    );
    const stopped = registry.unbindTransaction('CP-1', 1, 7, {
      reason: 'EVDisconnected',
      at: '2026-01-01T11:00:00Z',
    });
    assert.deepEqual(stopped?.lastStop, {
      transactionId: 7,
      reason: 'EVDisconnected',
      at: '2026-01-01T11:00:00Z',
    });
    assert.equal(stopped?.currentUnphasedA, undefined, 'the car no longer draws');
    registry.bindTransaction('CP-1', 1, { ...transaction, transactionId: 8 });
    assert.equal(registry.find('CP-1', 1)?.lastStop, undefined);
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
