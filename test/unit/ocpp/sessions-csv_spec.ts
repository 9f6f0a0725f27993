import assert from 'node:assert/strict';
import { ConfigError } from '../../../lib/config-error';
import { parseCdrConnectors } from '../../../lib/ocpp/cdr-connectors';
import type { SessionRecord } from '../../../lib/ocpp/central-state';
import { sessionsCsv } from '../../../lib/ocpp/sessions-csv';
import { parseSettings } from '../../../lib/ocpp/settings';

const SESSIONS: SessionRecord[] = [
  {
    transactionId: 7,
    chargePointId: 'CP-1',
    connectorId: 1,
    idTag: 'TAG-A',
    startedAt: '2026-11-25T08:00:00.000Z',
    stoppedAt: '2026-11-25T09:15:27.000Z',
    meterStartWh: 1000.5,
    meterStopWh: 13500.75,
    energyWh: 12500.25,
    stopReason: 'Local',
  },
  {
    transactionId: 8,
    chargePointId: 'CP-2',
    connectorId: 2,
    startedAt: '2026-11-25T10:00:00.000Z',
    stoppedAt: '2026-11-25T10:30:00.000Z',
    meterStartWh: 0,
    meterStopWh: 20000,
    energyWh: 20000,
    stopReason: 'EVDisconnected',
  },
];

async function* records() {
  yield* SESSIONS;
}

/** Each line's cells by column title (no quoted separators in these records). */
function table(csv: string, separator: string) {
  const [head = '', ...rows] = csv.trim().split('\r\n');
  const titles = head.split(separator);
  return rows.map((row) => Object.fromEntries(row.split(separator).map((cell, i) => [titles[i], cell])));
}

describe('CDR export (sessions-csv)', () => {
  it('fills connector type, AC/DC and comment from the table: a connector line wins over its charger, comments join', async () => {
    const connectors = parseCdrConnectors(
      [
        '# billing portal',
        'CP-1, Type 2, AC, space 12, north wall',
        'CP-2, Type 2, AC',
        'CP-2/2, CCS, DC',
      ].join('\n'),
    );
    const csv = await sessionsCsv(records(), { comments: { '7': 'tenant Müller' } }, connectors);
    const rows = table(csv, ',');
    // The comment holds a comma, so it is quoted: read it from the raw line.
    assert.match(csv.split('\r\n')[1] ?? '', /,Type 2,AC,"space 12, north wall; tenant Müller"$/);
    assert.equal(rows[1]?.['connector type'], 'CCS');
    assert.equal(rows[1]?.['AC/DC'], 'DC');
    assert.equal(rows[1]?.comment, '');
    assert.deepEqual(csv.split('\r\n')[0]?.split(',').slice(-3), ['connector type', 'AC/DC', 'comment']);
  });

  it('a flow\u2019s connectors override the configured table per key', async () => {
    const configured = parseCdrConnectors('CP-2/2, CCS, DC, configured');
    const csv = await sessionsCsv(
      records(),
      { connectors: { 'CP-2/2': { type: 'CHAdeMO', current: 'DC', comment: 'from the flow' } } },
      configured,
    );
    assert.deepEqual(Object.values(table(csv, ',')[1] ?? {}).slice(-3), ['CHAdeMO', 'DC', 'from the flow']);
  });

  it('a decimal comma writes 12500,25 and separates with a semicolon (a tab when asked)', async () => {
    const csv = await sessionsCsv(records(), { decimal: ',' });
    const rows = table(csv, ';');
    assert.equal(rows[0]?.['energy (Wh)'], '12500,25');
    assert.equal(rows[0]?.['meter start (Wh)'], '1000,5');
    assert.equal(rows[0]?.['duration (min)'], '75,5');
    assert.equal(rows[0]?.['started (UTC)'], '2026-11-25T08:00:00.000Z');
    assert.equal(rows[1]?.['energy (Wh)'], '20000');
    assert.doesNotMatch(csv, /;\d+\.\d+;/);
    const tabbed = await sessionsCsv(records(), { decimal: ',', separator: '\t' });
    assert.equal(table(tabbed, '\t')[0]?.['energy (Wh)'], '12500,25');
    const point = await sessionsCsv(records(), {});
    assert.equal(table(point, ',')[0]?.['energy (Wh)'], '12500.25');
  });

  it('refuses a decimal comma with a comma separator, an unknown mark, a bad instant and a bad connector', async () => {
    await assert.rejects(
      sessionsCsv(records(), { decimal: ',', separator: ',' }),
      /decimal comma needs the separator ";"/,
    );
    await assert.rejects(sessionsCsv(records(), { decimal: ' ' as ',' }), /decimal must be "\." or ","/);
    await assert.rejects(sessionsCsv(records(), { from: 'yesterday' }), /from must be an ISO 8601 instant/);
    await assert.rejects(
      sessionsCsv(records(), { connectors: { 'CP-1': { current: 'ac' as 'AC' } } }),
      /connectors\["CP-1"\]\.current must be "AC" or "DC"/,
    );
  });

  it('the setting names the line at fault and reaches the central system\u2019s options', () => {
    assert.throws(
      () => parseSettings({ cdrConnectors: 'CP-1, Type 2, AC\nCP-2, CCS, three-phase' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /cdrConnectors line 2: "three-phase" is neither AC nor DC/.test(err.message),
    );
    assert.throws(
      () => parseSettings({ cdrConnectors: 'CP-1, Type 2\nCP-1, CCS' }),
      /line 2: CP-1 is listed twice/,
    );
    assert.deepEqual(parseSettings({ cdrConnectors: 'CP-1/2, Type 2, ac' }).cdrConnectors, {
      'CP-1/2': { type: 'Type 2', current: 'AC' },
    });
    assert.equal(parseSettings({}).cdrConnectors, undefined);
  });
});
