import assert from 'node:assert/strict';
import type { ModbusFault } from '../../../lib/contracts';
import { faultWords, staleWords } from '../../../lib/dlm/evidence/circuit-view';
import type { StaleNotice } from '../../../lib/dlm/evidence/measurements';
import { parseDlmMessage } from '../../../lib/dlm/messages';
import { english, sayReason } from '../../../lib/dlm/words';
import { englishWordsIn } from '../../support/words';

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

  it("words every Modbus failure of a stale notice from its data (msg.staleCause's fault): German without an English word", () => {
    // One of each kind (a missing kind does not compile), as lib/modbus makes them.
    const timeout = { kind: 'timeout', ms: 1000 } as const;
    const refused = { kind: 'system', code: 'ECONNREFUSED' } as const;
    const faults: { [K in ModbusFault['kind']]: Extract<ModbusFault, { kind: K }>[] } = {
      timeout: [timeout],
      exception: [
        { kind: 'exception', code: 4 },
        { kind: 'exception', code: 1 },
        { kind: 'exception', code: 2 },
        { kind: 'exception', code: 3 },
        { kind: 'exception', code: 5 },
        { kind: 'exception', code: 6 },
        { kind: 'exception', code: 8 },
        { kind: 'exception', code: 10 },
        { kind: 'exception', code: 11 },
        { kind: 'exception', code: 12 },
      ],
      wrongLength: [{ kind: 'wrongLength', registers: 2, asked: 4 }],
      unusable: [
        { kind: 'unusable', detail: 'CRC error', cause: { kind: 'crc' } },
        { kind: 'unusable', detail: 'Port is not open' },
      ],
      badLength: [{ kind: 'badLength', got: 7, expected: 9 }],
      wrongUnit: [{ kind: 'wrongUnit', got: 2, expected: 1 }],
      wrongFunction: [{ kind: 'wrongFunction', got: 4, expected: 3 }],
      byteCount: [{ kind: 'byteCount', got: 2, expected: 4 }],
      crc: [{ kind: 'crc' }],
      system: [
        refused,
        ...[
          'ECONNRESET',
          'ECONNABORTED',
          'EPIPE',
          'ETIMEDOUT',
          'EHOSTUNREACH',
          'ENETUNREACH',
          'ENOTFOUND',
        ].map((code) => ({ kind: 'system', code }) as const),
        ...['ENOENT', 'EACCES', 'EBUSY', 'EIO'].map((code) => ({ kind: 'system', code }) as const),
      ],
      connectTimeout: [{ kind: 'connectTimeout', ms: 5000 }],
      silent: [{ kind: 'silent', s: 30 }],
      closedByPeer: [{ kind: 'closedByPeer' }],
      connectionClosed: [{ kind: 'connectionClosed' }],
      portClosed: [{ kind: 'portClosed' }],
      hungUp: [{ kind: 'hungUp' }],
      reopened: [{ kind: 'reopened' }],
      busClosed: [{ kind: 'busClosed' }],
      queueFull: [{ kind: 'queueFull', waiting: 64 }],
      queueTimeout: [{ kind: 'queueTimeout', ms: 5000 }],
      notConnected: [
        { kind: 'notConnected', ms: 5000, cause: refused },
        { kind: 'notConnected', ms: 5000 },
      ],
      brokeTwice: [{ kind: 'brokeTwice', cause: { kind: 'closedByPeer' } }, { kind: 'brokeTwice' }],
      backedOff: [
        { kind: 'backedOff', failures: 3, nextS: 8, last: timeout },
        { kind: 'backedOff', failures: 3, nextS: 8 },
      ],
    };
    const address = 'tcp://10.0.0.5:502';
    for (const fault of Object.values(faults).flat()) {
      for (const cause of [
        { readsFailed: { times: 2, error: 'x', fault } },
        { connectionLost: { address, error: 'x', fault } },
      ]) {
        const german = sayReason([staleWords({ why: 'x', cause })], 'de');
        // An unusable answer without its cause (an error whose text is all there is) is given text.
        assert.deepEqual(englishWordsIn(german.replace('Port is not open', '')), [], german);
        assert.doesNotMatch(german, /\bx\b/, 'the text is not shown when the data is there');
      }
      // The load manager takes it from the message as it came.
      const staleCause = { readsFailed: { times: 2, error: 'x', fault } };
      assert.deepEqual(
        parseDlmMessage('grid-meter', last, '', { stale: true, staleReason: 'x', staleCause }),
        { kind: 'meterStale', source: 'grid-meter', why: 'x', cause: staleCause },
        JSON.stringify(fault),
      );
    }
    // English as lib/modbus writes it (errors.ts, bus.ts, unit-backoff.ts, lifecycle.ts).
    assert.deepEqual(
      [
        { kind: 'exception', code: 4 },
        { kind: 'backedOff', failures: 3, nextS: 8, last: timeout },
        { kind: 'notConnected', ms: 5000, cause: refused },
        { kind: 'unusable', detail: 'CRC error', cause: { kind: 'crc' } },
        {
          kind: 'unusable',
          detail: 'Data length error, expected 9 got 7',
          cause: { kind: 'badLength', got: 7, expected: 9 },
        },
        { kind: 'unusable', detail: 'Port is not open' },
      ].map((fault) => [
        english([faultWords(fault as ModbusFault)]),
        sayReason([faultWords(fault as ModbusFault)], 'de'),
      ]),
      [
        ['exception 4 (device failure)', 'Ausnahme 4 (Gerätefehler)'],
        [
          'unit not answering (3 failures in a row; last: no answer within 1000 ms); next try in 8 s',
          'Gerät antwortet nicht (3 Fehler nacheinander; zuletzt: keine Antwort innerhalb von 1000 ms); nächster Versuch in 8 s',
        ],
        [
          'the bus is not connected (connection refused (ECONNREFUSED)); waited 5000 ms',
          'der Bus ist nicht verbunden (Verbindung abgewiesen (ECONNREFUSED)); 5000 ms gewartet',
        ],
        ['unusable answer: CRC error', 'unbrauchbare Antwort: CRC-Fehler'],
        [
          'unusable answer: Data length error, expected 9 got 7',
          'unbrauchbare Antwort: falsche Länge, erwartet 9, erhalten 7',
        ],
        // Without its cause, the text as it came (given).
        ['unusable answer: Port is not open', 'unbrauchbare Antwort: Port is not open'],
      ],
    );
    // A fault of another shape is not taken (nor the cause around it).
    for (const wrong of [
      { kind: 'timeout' },
      { kind: 'timeout', ms: '1000' },
      { kind: 'toString' },
      { kind: 'exception', code: 4, cause: { kind: 'nope' } },
      'timed out',
    ]) {
      const staleCause = { readsFailed: { times: 2, error: 'x', fault: wrong } };
      assert.deepEqual(
        parseDlmMessage('grid-meter', last, '', { stale: true, staleReason: 'x', staleCause }),
        { kind: 'meterStale', source: 'grid-meter', why: 'x' },
        JSON.stringify(wrong),
      );
    }
  });

  it('reads a message with stale false as a reading', () => {
    assert.equal(parseDlmMessage('grid-meter', last, '', { stale: false }).kind, 'reading');
  });
});
