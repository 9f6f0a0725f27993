import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionRecord } from '../../../lib/contracts';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { Charger201 } from '../../support/charger201';
import { useOcppHarness } from '../../support/ocpp';

/**
 * OCPP 2.0.1 transactions against the ledger: the charger names them (a string), may queue their
 * events while it is offline and send them late, numbered by seqNo, and may find a central system
 * that restarted in between. Against the independent 2.0.1 test charger (charger201.ts).
 */
describe('OCPP 2.0.1 transactions in the ledger', () => {
  const harness = useOcppHarness();
  const chargers: Charger201[] = [];
  let dataDirectory: string;

  beforeEach(() => {
    dataDirectory = mkdtempSync(join(tmpdir(), 'ampflow-cs201-state-'));
  });

  afterEach(async () => {
    await Promise.all(chargers.splice(0).map((charger) => charger.close()));
    rmSync(dataDirectory, { recursive: true, force: true });
  });

  async function connected(cs: CentralSystem, identity = 'CS201'): Promise<Charger201> {
    const charger = new Charger201({ url: `ws://127.0.0.1:${cs.port}${cs.pathPrefix}`, identity });
    chargers.push(charger);
    await charger.connect();
    assert.equal((await charger.boot()).status, 'Accepted');
    return charger;
  }

  async function sessionsOf(cs: CentralSystem): Promise<SessionRecord[]> {
    const sessions: SessionRecord[] = [];
    for await (const session of cs.sessions()) sessions.push(session);
    return sessions;
  }

  it('takes a whole session queued while the charger was offline, in order, once', async () => {
    const cs = await harness().centralSystem();
    const charger = await connected(cs);
    await charger.queueOffline(true);
    const started = charger.startTransaction(1, 'TAG-OFF', { meterWh: 10_000 });
    const tx = charger.transactionOn(1);
    assert.ok(tx, 'the charger runs the transaction on its own');
    const updated = charger.meterValues(tx.transactionId, { currentA: [10, 10, 10], energyWh: 12_000 });
    const ended = charger.stopTransaction(tx.transactionId, { energyWh: 13_500 });
    assert.equal(cs.openTransactions().length, 0, 'nothing reached the central system yet');
    await charger.queueOffline(false);
    await Promise.all([started, updated, ended]);
    const [session] = await sessionsOf(cs);
    assert.equal(session?.chargerTransactionId, tx.transactionId);
    assert.equal(session?.idTag, 'TAG-OFF');
    assert.equal(session?.meterStartWh, 10_000);
    assert.equal(session?.energyWh, 3_500);
    const events = charger.received.length;
    assert.equal(events, 0, 'the central system sent the charger nothing it did not ask for');
    assert.deepEqual(harness().log.matching(/missing|never received/), [], 'a complete queue reports no gap');
    assert.deepEqual(charger.violations, []);
  });

  it('reports a gap in seqNo (events the charger lost) and keeps what came', async () => {
    const cs = await harness().centralSystem();
    const charger = await connected(cs);
    const { transactionId } = await charger.startTransaction(1, 'TAG-GAP', { meterWh: 0 });
    // The charger lost two events of its queue: seqNo 1 and 2 never come.
    const now = new Date().toISOString();
    await charger.send('TransactionEvent', {
      eventType: 'Ended',
      timestamp: now,
      triggerReason: 'StopAuthorized',
      seqNo: 3,
      offline: true,
      transactionInfo: { transactionId, stoppedReason: 'Local' },
      meterValue: [
        {
          timestamp: now,
          sampledValue: [
            {
              value: 2.5,
              measurand: 'Energy.Active.Import.Register',
              context: 'Transaction.End',
              unitOfMeasure: { unit: 'kWh' },
            },
          ],
        },
      ],
    });
    assert.equal(
      harness().log.matching(
        new RegExp(`transaction ${transactionId}: 2 TransactionEvents missing before seqNo 3`),
      ).length,
      1,
    );
    const [session] = await sessionsOf(cs);
    assert.equal(session?.energyWh, 2_500, 'the end is recorded all the same');
  });

  it('finds a running transaction again after the central system restarted: its events end the same session', async () => {
    const first = await harness().centralSystem({ dataDirectory });
    const charger = await connected(first);
    const { transactionId } = await charger.startTransaction(1, 'TAG-R', { meterWh: 1_000 });
    const ledgerId = first.openTransactions()[0]?.transactionId;
    await charger.close();
    await first.stop();

    const second = await harness().centralSystem({ dataDirectory });
    assert.equal(second.openTransactions()[0]?.chargerTransactionId, transactionId, 'kept durably');
    const again = await connected(second);
    // The charger still runs it (its own state survived): its next events name it.
    await again.send('TransactionEvent', {
      eventType: 'Updated',
      timestamp: new Date().toISOString(),
      triggerReason: 'MeterValuePeriodic',
      seqNo: 1,
      evse: { id: 1, connectorId: 1 },
      transactionInfo: { transactionId, chargingState: 'Charging' },
      meterValue: [
        {
          timestamp: new Date().toISOString(),
          sampledValue: [
            { value: 16, measurand: 'Current.Import', phase: 'L1', unitOfMeasure: { unit: 'A' } },
          ],
        },
      ],
    });
    assert.equal(second.connectorOf('CS201', 1)?.transaction?.transactionId, ledgerId);
    await again.send('TransactionEvent', {
      eventType: 'Ended',
      timestamp: new Date().toISOString(),
      triggerReason: 'StopAuthorized',
      seqNo: 2,
      transactionInfo: { transactionId, stoppedReason: 'Local' },
      meterValue: [
        {
          timestamp: new Date().toISOString(),
          sampledValue: [
            { value: 4_000, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } },
          ],
        },
      ],
    });
    const [session] = await sessionsOf(second);
    assert.deepEqual(
      [session?.transactionId, session?.chargerTransactionId, session?.energyWh],
      [ledgerId, transactionId, 3_000],
    );
    assert.equal(second.openTransactions().length, 0);
    assert.deepEqual(harness().log.matching(/never received/), [], 'the restart lost nothing');
    assert.deepEqual(again.violations, []);
  });

  it('records a session once when the charger sends its end again (a lost answer), also after a restart', async () => {
    const first = await harness().centralSystem({ dataDirectory });
    const charger = await connected(first);
    const { transactionId } = await charger.startTransaction(1, 'TAG-TWICE', { meterWh: 500 });
    const at = new Date().toISOString();
    const ended = {
      eventType: 'Ended' as const,
      timestamp: at,
      triggerReason: 'StopAuthorized' as const,
      seqNo: 1,
      transactionInfo: { transactionId, stoppedReason: 'Local' as const },
      meterValue: [
        {
          timestamp: at,
          sampledValue: [
            {
              value: 2_500,
              measurand: 'Energy.Active.Import.Register' as const,
              unitOfMeasure: { unit: 'Wh' },
            },
          ],
        },
      ],
    };
    await charger.send('TransactionEvent', ended);
    await charger.send('TransactionEvent', ended);
    assert.equal((await sessionsOf(first)).length, 1, 'the repeat is answered, not recorded');
    await charger.close();
    await first.stop();
    const second = await harness().centralSystem({ dataDirectory });
    const again = await connected(second);
    await again.send('TransactionEvent', ended);
    const sessions = await sessionsOf(second);
    assert.deepEqual(
      sessions.map((session) => [session.chargerTransactionId, session.energyWh, session.idTag]),
      [[transactionId, 2_000, 'TAG-TWICE']],
    );
    assert.equal(second.openTransactions().length, 0);
    assert.deepEqual(again.violations, []);
  });

  it('hands a TransactionEvent’s shared calls to the handlers one turn after another, as an awaited step each', async () => {
    // What one step sets off at the end of its turn (the profile manager pumps a charger's queue
    // then: profiles/queue-starts.ts) comes before the next step, as it did when the translation
    // awaited each call (ChargerCalls.followAwaiting; run on at once, the status came in the
    // meter values' turn).
    const cs = await harness().centralSystem();
    const charger = await connected(cs);
    const seen: string[] = [];
    cs.onConnectorState((state) => {
      seen.push(`${state.status} ${state.transaction ? 'tx' : '-'} ${state.currentA ? 'A' : '-'}`);
      queueMicrotask(() => seen.push('turn'));
    });
    const { transactionId } = await charger.startTransaction(1, 'TAG-TURNS', { meterWh: 0 });
    await charger.meterValues(transactionId, { currentA: [10, 10, 10], energyWh: 100 });
    // Started: its StartTransaction, its meter values (the register), its status, a turn each.
    assert.deepEqual(seen, [
      'undefined tx -',
      'turn',
      'undefined tx -',
      'turn',
      'Charging tx -',
      'turn',
      'Charging tx A',
      'turn',
    ]);
  });
});
