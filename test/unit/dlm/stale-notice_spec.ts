import assert from 'node:assert/strict';
import { parseDlmMessage } from '../../../lib/dlm/messages';

describe('load manager input: a meter that went stale', () => {
  it('takes its notice without values quietly (the load manager counts staleness itself)', () => {
    const input = parseDlmMessage(
      'grid-meter',
      { source: 'grid-meter', timestamp: '2026-11-23T07:00:00Z' },
      '',
    );
    assert.deepEqual(input, { kind: 'ignored', why: 'grid-meter: a reading with no values', quiet: true });
  });

  it('still warns about a payload it cannot read', () => {
    const input = parseDlmMessage('grid-meter', { voltage: 230 }, '');
    assert.equal(input.kind, 'ignored');
    assert.equal((input as { quiet?: boolean }).quiet, undefined);
  });
});

describe('load manager input: charger events that say nothing about load', () => {
  it('takes a StartTransaction or Session event quietly, never as a connector state', () => {
    for (const topic of ['CP-1/StartTransaction', 'CP-1/Session', 'CP-1/Heartbeat']) {
      const input = parseDlmMessage(topic, { chargePointId: 'CP-1', connectorId: 1, idTag: 'TAG' }, '');
      assert.equal(input.kind, 'ignored', topic);
      assert.equal((input as { quiet?: boolean }).quiet, true, topic);
    }
  });

  it('still reads a StatusNotification as a connector state', () => {
    const input = parseDlmMessage(
      'CP-1/StatusNotification',
      { chargePointId: 'CP-1', connectorId: 1, status: 'Charging' },
      '',
    );
    assert.equal(input.kind, 'connectorState');
  });
});

describe('load manager input: a meter that says it is stale', () => {
  const last = { source: 'grid-meter', timestamp: '2026-11-23T07:00:00Z', currentA: [20, 20, 20] };

  it("takes ampflow-meter's msg.stale as a stale notice, not as a reading (its last values are not news)", () => {
    const input = parseDlmMessage('grid-meter', last, '', {
      stale: true,
      staleReason: 'connection to tcp://10.0.0.5:502 lost (connection closed by the other side)',
    });
    assert.deepEqual(input, {
      kind: 'meterStale',
      source: 'grid-meter',
      why: 'connection to tcp://10.0.0.5:502 lost (connection closed by the other side)',
    });
  });

  it('takes payload.stale from a flow, and a notice without values; the topic names the meter when the payload does not', () => {
    assert.deepEqual(
      parseDlmMessage('p1-reader', { currentA: [1, 1, 1], stale: true, staleReason: 'P1 cable' }, ''),
      {
        kind: 'meterStale',
        source: 'p1-reader',
        why: 'P1 cable',
      },
    );
    assert.deepEqual(
      parseDlmMessage('x', { source: 'grid-meter', timestamp: last.timestamp }, '', { stale: true }),
      {
        kind: 'meterStale',
        source: 'grid-meter',
        why: 'no reason given',
      },
    );
  });

  it('reads a message with stale false as a reading', () => {
    assert.equal(parseDlmMessage('grid-meter', last, '', { stale: false }).kind, 'reading');
  });
});
