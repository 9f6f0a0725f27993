import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { METER_VALUES_ACK_MS, UpstreamProxy } from '../../../lib/upstream/proxy';
import { parseUpstreamSettings } from '../../../lib/upstream/settings';
import type { Charger201 } from '../../support/charger201';
import { until, waitFor } from '../../support/events';
import { callError } from '../../support/ocpp';
import { allSessions, useTempDirectory } from '../interop/support';
import { type Call, useUpstreamSite } from './support';
import { Backend201, charger201 } from './support201';

/**
 * Keep the operator's backend for OCPP 2.0.1 chargers: ampflow's central system between the
 * independent 2.0.1 test charger (plain `ws`, typed-ocpp's schemas: test/support/charger201.ts)
 * and an operator's 2.0.1 backend that is not ampflow (a bare ocpp-rpc server in strict mode with
 * its own 2.0.1 schemas: support201.ts), over real WebSockets on 127.0.0.1. The proxy's reconnect
 * and decision timers run on a ManualClock.
 */

type Payload = Record<string, unknown>;

/** What a recorded TransactionEvent says: its type, seqNo and the charger's transaction id. */
const eventOf = (c: Call) => ({
  eventType: c.params.eventType,
  seqNo: c.params.seqNo,
  transactionId: (c.params.transactionInfo as { transactionId?: string }).transactionId,
});

describe('upstream proxy: OCPP 2.0.1 chargers keep the operator’s 2.0.1 backend', () => {
  const { interop, backends, proxies, site, backendGot, connected } = useUpstreamSite(() => new Backend201());
  const directory = useTempDirectory('ampflow-upstream201-');

  /** A 2.0.1 charger (closed after the test) dialling `cs`, not yet connected. */
  const station = (cs: CentralSystem, identity = 'CS201') =>
    charger201(cs, identity, (charger) => interop.track(charger));

  /** The charger connects and boots; the backend accepted it. */
  async function booted(backend: Backend201, charger: Charger201): Promise<void> {
    await charger.connect();
    assert.equal((await charger.boot()).status, 'Accepted');
    assert.equal(backend.of('BootNotification', charger.identity).length > 0, true);
  }

  /** Nothing either side did broke the 2.0.1 schemas or OCPP-J. */
  function clean(backend: Backend201, ...chargers: Charger201[]): void {
    assert.deepEqual(backend.badMessages, [], 'the strict backend found nothing invalid');
    for (const charger of chargers) assert.deepEqual(charger.violations, [], 'nor did the charger');
  }

  it('passes the boot up in 2.0.1 shape on an ocpp2.0.1 link: the backend’s Rejected reaches the charger, its Accepted admits it', async () => {
    const { backend, cs } = await site();
    backend.answer('BootNotification', () => ({
      status: 'Rejected',
      currentTime: new Date().toISOString(),
      interval: 45,
    }));
    const charger = station(cs);
    await charger.connect();
    const rejected = await charger.boot();
    assert.equal(rejected.status, 'Rejected', 'the backend’s decision, not ampflow’s Accepted');
    assert.equal(rejected.interval, 45, 'with the backend’s retry interval');
    assert.equal(backend.protocols.get('CS201'), 'ocpp2.0.1', 'the link speaks the charger’s version');
    const [boot] = backend.of('BootNotification', 'CS201');
    const chargingStation = boot?.params.chargingStation as Payload;
    assert.equal(chargingStation.vendorName, 'TestVendor');
    assert.equal(chargingStation.model, 'Charger201');
    assert.equal(boot?.params.reason, 'PowerUp');
    assert.equal(boot?.params.chargePointVendor, undefined, 'not turned into 1.6');
    await assert.rejects(charger.status(1, 'Available'), /SecurityError/, 'ampflow holds it rejected too');

    backend.answer('BootNotification', undefined);
    assert.equal((await charger.boot()).status, 'Accepted');
    const status = backendGot(backend, (c) => c.action === 'StatusNotification');
    await charger.status(1, 'Available');
    assert.deepEqual(
      [(await status)[0].params.evseId, (await status)[0].params.connectorStatus],
      [1, 'Available'],
      'an accepted charger’s requests go up as they came',
    );
    assert.equal(backend.of('BootNotification', 'CS201').length, 2);
    clean(backend, charger);
  });

  it('passes a transaction up once per event, in order, with the charger’s id and seqNo; the backend’s idTokenInfo is the charger’s', async () => {
    const { backend, cs } = await site();
    const charger = station(cs);
    await booted(backend, charger);
    backend.answer('TransactionEvent', (request, _identity, byDefault) =>
      request.eventType === 'Started' ? { idTokenInfo: { status: 'Blocked' } } : byDefault(),
    );
    const { transactionId, response } = await charger.startTransaction(1, 'TAG-201', { meterWh: 1000 });
    assert.deepEqual(response, { idTokenInfo: { status: 'Blocked' } }, 'the backend decided the start');
    const [open] = cs.openTransactions();
    assert.equal(open?.chargerTransactionId, transactionId, 'ampflow’s ledger has the charger’s transaction');
    assert.equal(open?.idTag, 'TAG-201');

    await charger.meterValues(transactionId, { currentA: [10, 10, 10], energyWh: 2500 });
    await charger.stopTransaction(transactionId, { energyWh: 4000 });
    const events = backend.of('TransactionEvent', 'CS201').map(eventOf);
    assert.deepEqual(events, [
      { eventType: 'Started', seqNo: 0, transactionId },
      { eventType: 'Updated', seqNo: 1, transactionId },
      { eventType: 'Ended', seqNo: 2, transactionId },
    ]);
    const [started] = backend.of('TransactionEvent', 'CS201');
    assert.deepEqual(started?.params.idToken, { idToken: 'TAG-201', type: 'ISO14443' });
    assert.equal(cs.openTransactions().length, 0);
    const [session] = await allSessions(cs);
    assert.equal(session?.chargerTransactionId, transactionId);
    assert.equal(session?.energyWh, 3000);
    clean(backend, charger);
  });

  it('answers the charger while the backend is away, then delivers the events once each, in order, and the statuses again', async () => {
    const { backend, cs, proxy, proxyClock } = await site();
    await backend.stop();
    const charger = station(cs);
    await charger.connect();
    assert.equal((await charger.boot()).status, 'Accepted', 'ampflow answered in the backend’s place');
    await charger.status(1, 'Occupied');
    const { transactionId, response } = await charger.startTransaction(1, 'TAG-AWAY', { meterWh: 0 });
    assert.deepEqual(response, { idTokenInfo: { status: 'Accepted' } }, 'ampflow’s own decision');
    await charger.meterValues(transactionId, { currentA: [16, 16, 16], energyWh: 1200 });
    await charger.meterValues(transactionId, { currentA: [16, 16, 16], energyWh: 2400 });
    await charger.stopTransaction(transactionId, { energyWh: 3000 });
    await charger.status(1, 'Available');
    const written = Object.values(cs.entriesOf('CS201', 'upstream')) as {
      action: string;
      request: Payload;
    }[];
    assert.deepEqual(
      written.filter((item) => item.action === 'TransactionEvent').map((item) => item.request.eventType),
      ['Started', 'Updated', 'Updated', 'Ended'],
      'every event waits written, before the charger had its answer',
    );
    assert.equal(proxy.status()[0]?.state, 'connecting');

    await backend.start();
    const statuses = () => backend.of('StatusNotification', 'CS201');
    proxyClock.advance(60_000);
    // What waited, then the connector's status once more (after the drain): three statuses in all.
    await until(
      () => statuses().length >= 3,
      [[backend, 'call']],
      5000,
      () => `the backend got ${JSON.stringify(backend.calls.map((c) => c.action))}`,
    );
    assert.equal(proxy.status()[0]?.queued, 0);
    assert.deepEqual(
      backend.of('TransactionEvent', 'CS201').map(eventOf),
      [0, 1, 2, 3].map((seqNo) => ({
        eventType: ['Started', 'Updated', 'Updated', 'Ended'][seqNo],
        seqNo,
        transactionId,
      })),
      'each event once, in the charger’s order',
    );
    assert.deepEqual(
      backend.calls.map((c) => c.action),
      [
        'BootNotification',
        'StatusNotification',
        ...Array(4).fill('TransactionEvent'),
        'StatusNotification',
        'StatusNotification',
      ],
      'the charger’s boot first, what waited in order, then its status again',
    );
    assert.deepEqual(
      statuses().map((c) => c.params.connectorStatus),
      ['Occupied', 'Available', 'Available'],
      'the statuses as they came, then the connector’s status once more on the new link',
    );
    assert.deepEqual(cs.entriesOf('CS201', 'upstream'), {}, 'nothing waits any more');
    clean(backend, charger);
  });

  it('passes the backend’s commands to the charger as written, refuses what the settings refuse and keeps protected variables', async () => {
    const { backend, cs } = await site({
      refuse: ['RemoteStopTransaction', 'Reset', 'GetBaseReport'],
      protectedKeys: ['MeterValueSampleInterval'],
    });
    const charger = station(cs);
    await booted(backend, charger);
    const receivedOf = (action: string) => charger.received.filter((r) => r.action === action);

    const get = {
      getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }],
    };
    const got = await backend.call('CS201', 'GetVariables', get);
    assert.deepEqual(
      receivedOf('GetVariables').map((r) => r.payload),
      [get],
      'as the backend wrote it',
    );
    assert.deepEqual(got, receivedOf('GetVariables')[0]?.response, 'the charger’s own answer');
    assert.equal((got as { getVariableResult: Payload[] }).getVariableResult[0]?.attributeValue, '60');

    const start = { idToken: { idToken: 'REMOTE-1', type: 'Central' }, remoteStartId: 42, evseId: 1 };
    const remoteStarted = backendGot(
      backend,
      (c) => c.action === 'TransactionEvent' && c.params.eventType === 'Started',
    );
    assert.deepEqual(await backend.call('CS201', 'RequestStartTransaction', start), { status: 'Accepted' });
    assert.deepEqual(
      receivedOf('RequestStartTransaction').map((r) => r.payload),
      [start],
    );
    const [{ params: startedEvent }] = await remoteStarted;
    assert.equal((startedEvent.transactionInfo as Payload).remoteStartId, 42, 'the charger’s start goes up');
    const transactionId = charger.transactionOn(1)?.transactionId as string;

    // Refused by the 1.6 name (RemoteStopTransaction), by the name both versions share (Reset),
    // and by a name only 2.0.1 has (GetBaseReport).
    for (const [action, request] of [
      ['RequestStopTransaction', { transactionId }],
      ['Reset', { type: 'Immediate' }],
      ['GetBaseReport', { requestId: 1, reportBase: 'FullInventory' }],
    ] as const) {
      const refused = await callError(backend.call('CS201', action, request));
      assert.equal(refused.code, 'NotSupported', `${action} is refused`);
      assert.deepEqual(receivedOf(action), [], `${action} never reached the charger`);
    }
    assert.ok(charger.transactionOn(1), 'the transaction runs on');

    const set = {
      setVariableData: [
        {
          component: { name: 'SampledDataCtrlr' },
          variable: { name: 'TxUpdatedInterval' },
          attributeValue: '900',
        },
        // Names are case-insensitive (CiString50): another spelling is the same protected variable.
        {
          component: { name: 'sampleddatactrlr' },
          variable: { name: 'TXUPDATEDINTERVAL' },
          attributeValue: '1',
        },
        {
          component: { name: 'OCPPCommCtrlr' },
          variable: { name: 'HeartbeatInterval' },
          attributeValue: '120',
        },
      ],
    };
    assert.deepEqual(await backend.call('CS201', 'SetVariables', set), {
      setVariableResult: [
        {
          attributeStatus: 'Rejected',
          component: { name: 'SampledDataCtrlr' },
          variable: { name: 'TxUpdatedInterval' },
        },
        {
          attributeStatus: 'Rejected',
          component: { name: 'sampleddatactrlr' },
          variable: { name: 'TXUPDATEDINTERVAL' },
        },
        {
          attributeStatus: 'Accepted',
          component: { name: 'OCPPCommCtrlr' },
          variable: { name: 'HeartbeatInterval' },
        },
      ],
    });
    assert.deepEqual(
      receivedOf('SetVariables').map((r) => r.payload),
      [{ setVariableData: [set.setVariableData[2]] }],
      'only the unprotected variable reached the charger',
    );
    assert.equal(
      charger.variables.get('SampledDataCtrlr.TxUpdatedInterval')?.value,
      '60',
      'ampflow’s interval stays',
    );
    assert.equal(charger.variables.get('OCPPCommCtrlr.HeartbeatInterval')?.value, '120');
    clean(backend, charger);
  });

  it('gives a 1.6 and a 2.0.1 charger behind one proxy each a link in its own sub-protocol to the one URL', async () => {
    const { backend, cs, proxy, cp } = await site({}, new Backend201(['ocpp1.6', 'ocpp2.0.1']));
    await connected(backend, cp);
    const charger = station(cs);
    await booted(backend, charger);
    assert.deepEqual(Object.fromEntries(backend.protocols), { CP1: 'ocpp1.6', CS201: 'ocpp2.0.1' });
    const bootOf = (identity: string) => backend.of('BootNotification', identity)[0]?.params ?? {};
    assert.equal(typeof bootOf('CP1').chargePointVendor, 'string', 'the 1.6 charger’s boot in 1.6 shape');
    assert.equal(
      (bootOf('CS201').chargingStation as Payload | undefined)?.vendorName,
      'TestVendor',
      'the 2.0.1 one’s in 2.0.1',
    );
    assert.deepEqual(
      proxy
        .status()
        .map((link) => [link.chargePointId, link.state])
        .sort(),
      [
        ['CP1', 'open'],
        ['CS201', 'open'],
      ],
    );
    assert.equal(cs.protocolOf('CS201'), 'ocpp2.0.1');
    clean(backend, charger);
  });

  it('answers an Updated event within 50 ms though the backend hangs: written first, it goes up once the backend answers', async () => {
    const { backend, cs, proxy, proxyClock } = await site();
    const charger = station(cs);
    await booted(backend, charger);
    const { transactionId } = await charger.startTransaction(1, 'TAG-HANG');
    let release: (() => void) | undefined;
    backend.answer('TransactionEvent', (request, _identity, byDefault) =>
      request.eventType === 'Updated'
        ? new Promise((done) => (release = () => done(byDefault())))
        : byDefault(),
    );
    const arrived = backendGot(
      backend,
      (c) => c.action === 'TransactionEvent' && c.params.eventType === 'Updated',
    );
    let answered = false;
    const updated = charger.meterValues(transactionId, { currentA: [8, 8, 8], energyWh: 500 }).then(() => {
      answered = true;
    });
    await arrived;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(answered, false, 'the backend may still take it: the charger waits');
    assert.deepEqual(cs.entriesOf('CS201', 'upstream'), {}, 'nothing written meanwhile');
    proxyClock.advance(METER_VALUES_ACK_MS);
    await updated;
    const written = Object.values(cs.entriesOf('CS201', 'upstream')) as { request: Payload }[];
    assert.deepEqual(
      written.map((item) => item.request.eventType),
      ['Updated'],
      'written before the charger had its answer',
    );
    const drained = waitFor(proxy, 'drained');
    release?.();
    await drained;
    const ended = backendGot(
      backend,
      (c) => c.action === 'TransactionEvent' && c.params.eventType === 'Ended',
    );
    await charger.stopTransaction(transactionId);
    await ended;
    assert.deepEqual(
      backend.of('TransactionEvent', 'CS201').map((c) => c.params.eventType),
      ['Started', 'Updated', 'Ended'],
      'the Updated event went up once',
    );
    clean(backend, charger);
  });

  it('delivers a transaction’s events that waited exactly once, in order, after ampflow restarted', async () => {
    const backend = new Backend201();
    backends.push(backend);
    await backend.start();
    await backend.stop();
    const ampflow = async () => {
      const cs = await interop.harness().centralSystem({ dataDirectory: directory() });
      const proxyClock = new ManualClock();
      const settings = parseUpstreamSettings({ url: backend.url });
      const proxy = new UpstreamProxy(cs, settings, { clock: proxyClock, log: interop.harness().log });
      proxies.push(proxy);
      return { cs, proxy, proxyClock };
    };
    const first = await ampflow();
    const charger = station(first.cs);
    await charger.connect();
    await charger.boot();
    const { transactionId } = await charger.startTransaction(1, 'TAG-RESTART');
    await charger.meterValues(transactionId, { currentA: [6, 6, 6], energyWh: 700 });
    await charger.stopTransaction(transactionId, { energyWh: 900 });
    await charger.close();
    await first.proxy.close();
    await first.cs.stop();

    await backend.start();
    const ended = backendGot(
      backend,
      (c) => c.action === 'TransactionEvent' && c.params.eventType === 'Ended',
    );
    // The charger stays away: the new ampflow opens a link for what waits, in the charger's version.
    const second = await ampflow();
    assert.equal(second.proxy.status()[0]?.chargePointId, 'CS201');
    await ended;
    await until(() => second.proxy.status()[0]?.queued === 0, [[second.proxy, 'drained']], 5000);
    assert.equal(
      backend.protocols.get('CS201'),
      'ocpp2.0.1',
      'the link speaks the version the charger last spoke',
    );
    assert.deepEqual(backend.of('TransactionEvent', 'CS201').map(eventOf), [
      { eventType: 'Started', seqNo: 0, transactionId },
      { eventType: 'Updated', seqNo: 1, transactionId },
      { eventType: 'Ended', seqNo: 2, transactionId },
    ]);
    clean(backend, charger);
  });
});
