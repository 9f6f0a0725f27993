import assert from 'node:assert/strict';
import { staleWords } from '../../../lib/dlm/evidence/circuit-view';
import type { StaleNotice } from '../../../lib/dlm/evidence/measurements';
import { parseDlmMessage } from '../../../lib/dlm/messages';
import { english, sayReason } from '../../../lib/dlm/words';

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
      // No words of its own: the load manager says so in the user's language (staleNoReason).
      { kind: 'meterStale', source: 'grid-meter' },
    );
  });

  it("takes ampflow-meter's msg.staleCause as data beside the words, and no cause of another shape", () => {
    const lost = { connectionLost: { address: 'tcp://10.0.0.5:502', error: 'read ECONNRESET' } };
    assert.deepEqual(
      parseDlmMessage('grid-meter', last, '', { stale: true, staleReason: 'lost', staleCause: lost }),
      { kind: 'meterStale', source: 'grid-meter', why: 'lost', cause: lost },
    );
    for (const wrong of [
      'lost',
      { connectionLost: { address: 5 } },
      { readsFailed: { times: -1, error: 'x' } },
      { nothingReadS: 4, connectionLost: { address: 'a' } },
      { other: true },
    ])
      assert.deepEqual(
        parseDlmMessage('grid-meter', last, '', { stale: true, staleReason: 'lost', staleCause: wrong }),
        { kind: 'meterStale', source: 'grid-meter', why: 'lost' },
        JSON.stringify(wrong),
      );
  });

  it("words a meter's stale notice from its cause in English and German; a flow's own words as they came", () => {
    const notices: StaleNotice[] = [
      { why: 'x', cause: { connectionLost: { address: 'tcp://10.0.0.5:502', error: 'read ECONNRESET' } } },
      { why: 'x', cause: { noConnection: { address: 'tcp://10.0.0.5:502' } } },
      { why: 'x', cause: { readsFailed: { times: 3, error: 'timed out after 1000 ms' } } },
      { why: 'x', cause: { nothingReadS: 31 } },
      {},
      { why: 'P1 cable' },
    ];
    assert.deepEqual(
      notices.map((notice) => [english([staleWords(notice)]), sayReason([staleWords(notice)], 'de')]),
      [
        [
          'connection to tcp://10.0.0.5:502 lost (read ECONNRESET)',
          'Verbindung zu tcp://10.0.0.5:502 verloren (read ECONNRESET)',
        ],
        ['no connection to tcp://10.0.0.5:502', 'keine Verbindung zu tcp://10.0.0.5:502'],
        [
          '3 reads in a row failed: timed out after 1000 ms',
          '3 Lesevorgänge nacheinander fehlgeschlagen: timed out after 1000 ms',
        ],
        ['nothing read for 31 s', 'seit 31 s nichts gelesen'],
        ['no reason given', 'kein Grund angegeben'],
        ['P1 cable', 'P1 cable'],
      ],
    );
  });

  it('reads a message with stale false as a reading', () => {
    assert.equal(parseDlmMessage('grid-meter', last, '', { stale: false }).kind, 'reading');
  });
});
