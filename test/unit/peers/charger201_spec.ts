import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { NOREPLY, type RPCClient, RPCServer } from 'ocpp-rpc';
import { CallError, Charger201, type Charger201Options } from '../../support/charger201';
import { waitFor } from '../../support/events';

/**
 * The OCPP 2.0.1 test charger (test/support/charger201.ts: plain `ws`, typed-ocpp's schemas)
 * against a small CSMS made for this test with ocpp-rpc in strict 2.0.1 mode, so each frame is
 * checked by two independent copies of the OCA schemas, one on each side. Loopback only; the tests
 * wait for answers and 'call' events, never for a fixed time.
 */

interface Got {
  method: string;
  params: Record<string, unknown>;
}

/**
 * A CSMS: ocpp-rpc's server, strict, answering every charging-station action validly, except the
 * actions in `raw`, whose answer it sends as the frame `raw` makes, past its own strict checks.
 */
const ANSWERS: Record<string, (params: Record<string, unknown>) => object> = {
  BootNotification: () => ({ currentTime: new Date().toISOString(), interval: 300, status: 'Accepted' }),
  Heartbeat: () => ({ currentTime: new Date().toISOString() }),
  Authorize: () => ({ idTokenInfo: { status: 'Accepted' } }),
  TransactionEvent: (params) =>
    params.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {},
};

interface CsmsOptions {
  password?: string;
  raw?: Record<string, (messageId: string) => unknown[]>;
}

async function startCsms(options: CsmsOptions = {}) {
  const server = new RPCServer({ protocols: ['ocpp2.0.1'], strictMode: true });
  const got: Got[] = [];
  const clients = new Map<string, RPCClient>();
  const problems: string[] = [];
  server.auth((accept, reject, handshake) => {
    if (options.password !== undefined && handshake.password?.toString() !== options.password)
      return reject(401, 'Unauthorized');
    accept({}, 'ocpp2.0.1');
  });
  server.on('client', (client: RPCClient & { identity: string }) => {
    clients.set(client.identity, client);
    client.on('strictValidationFailure', (failure: unknown) => problems.push(String(failure)));
    client.handle(async ({ messageId = '', method = '', params = {} }) => {
      got.push({ method, params });
      server.emit('got', { method, params });
      const raw = options.raw?.[method];
      if (!raw) return ANSWERS[method]?.(params) ?? {};
      client.sendRaw(JSON.stringify(raw(messageId)));
      return NOREPLY as unknown as Record<string, never>; // ocpp-rpc's typings make the symbol an object
    });
  });
  const http = await server.listen(0, '127.0.0.1');
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ocpp`;
  /** Resolves with the `count`th action `method` the CSMS gets from now on. */
  const next = (method: string, count = 1) => {
    let seen = 0;
    return waitFor<[Got]>(server, 'got', (call) => call.method === method && ++seen === count).then(
      ([call]) => call,
    );
  };
  const client = (identity: string) => {
    const found = clients.get(identity);
    if (!found) throw new Error(`${identity} is not connected`);
    return found;
  };
  return { server, url, got, problems, next, client };
}

type Csms = Awaited<ReturnType<typeof startCsms>>;

describe('Charger201: an OCPP 2.0.1 charging station on ws, checked by typed-ocpp', () => {
  const chargers: Charger201[] = [];
  const servers: RPCServer[] = [];
  afterEach(async () => {
    await Promise.all(chargers.splice(0).map((cp) => cp.close()));
    await Promise.all(servers.splice(0).map((server) => server.close({ force: true })));
  });

  async function csms(options?: CsmsOptions): Promise<Csms> {
    const started = await startCsms(options);
    servers.push(started.server);
    return started;
  }

  async function booted(at: Csms, options: Partial<Charger201Options> = {}): Promise<Charger201> {
    const cp = new Charger201({ url: at.url, identity: 'CS201-1', ...options });
    chargers.push(cp);
    await cp.connect();
    const boot = await cp.boot();
    assert.equal(boot.status, 'Accepted');
    return cp;
  }

  /** The charger's answer to a CALL of the CSMS (the CALL goes through ocpp-rpc's strict checks). */
  function call(at: Csms, cp: Charger201, method: string, params: object) {
    return at.client(cp.identity).call(method, params) as Promise<Record<string, unknown>>;
  }

  const txDefault = (limit: number, extra: object = {}) => ({
    evseId: 1,
    chargingProfile: {
      id: 1,
      stackLevel: 0,
      chargingProfilePurpose: 'TxDefaultProfile',
      chargingProfileKind: 'Relative',
      chargingSchedule: [
        { id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit }] },
      ],
      ...extra,
    },
  });

  it('runs boot, status, authorize and a transaction Started/Updated/Ended, valid on both sides', async () => {
    const at = await csms();
    const cp = await booted(at);
    assert.equal(cp.protocol, 'ocpp2.0.1');
    await cp.heartbeat();
    await cp.status(1, 'Available');
    const authorized = await cp.authorize('TAG-201');
    assert.equal(authorized.idTokenInfo.status, 'Accepted');
    await cp.status(1, 'Occupied');
    const { transactionId, response } = await cp.startTransaction(1, 'TAG-201', { meterWh: 1_000 });
    assert.equal(response.idTokenInfo?.status, 'Accepted');
    assert.equal(cp.transactionOn(1)?.transactionId, transactionId);
    await cp.meterValues(transactionId, { currentA: [16, 16, 16], energyWh: 2_500, voltageV: 230 });
    await cp.chargingState(transactionId, 'SuspendedEV');
    await cp.stopTransaction(transactionId, { energyWh: 3_000 });
    assert.equal(cp.transactionOn(1), undefined);

    assert.deepEqual(
      at.got.map((g) => g.method),
      ['BootNotification', 'Heartbeat', 'StatusNotification', 'Authorize', 'StatusNotification'].concat(
        Array(4).fill('TransactionEvent'),
      ),
    );
    const events = at.got.filter((g) => g.method === 'TransactionEvent').map((g) => g.params);
    assert.deepEqual(
      events.map((e) => [e.eventType, e.triggerReason, e.seqNo]),
      [
        ['Started', 'Authorized', 0],
        ['Updated', 'MeterValuePeriodic', 1],
        ['Updated', 'ChargingStateChanged', 2],
        ['Ended', 'StopAuthorized', 3],
      ],
    );
    assert.ok(
      events.every((e) => (e.transactionInfo as { transactionId: string }).transactionId === transactionId),
    );
    assert.deepEqual(events[0]?.evse, { id: 1, connectorId: 1 });
    const meterValue = events[1]?.meterValue as { sampledValue: { measurand: string; phase?: string }[] }[];
    const sampled = meterValue?.[0];
    assert.deepEqual(
      sampled?.sampledValue.map((v) => `${v.measurand}${v.phase ? `@${v.phase}` : ''}`),
      ['Energy.Active.Import.Register', 'Current.Import@L1', 'Voltage@L1-N', 'Current.Import@L2'].concat([
        'Voltage@L2-N',
        'Current.Import@L3',
        'Voltage@L3-N',
      ]),
    );
    assert.deepEqual(events[3]?.transactionInfo, {
      transactionId,
      chargingState: 'EVConnected',
      stoppedReason: 'Local',
    });
    assert.deepEqual(at.problems, [], 'ocpp-rpc’s strict mode found nothing invalid');
    assert.deepEqual(cp.violations, []);
  });

  it('answers a TxDefaultProfile of 10 A: GetCompositeSchedule says 10 A and offeredA is 10', async () => {
    const at = await csms();
    const cp = await booted(at);
    assert.equal(cp.offeredA(1), 32, 'the rating without a profile');
    assert.deepEqual(await call(at, cp, 'SetChargingProfile', txDefault(10)), { status: 'Accepted' });
    const composite = await call(at, cp, 'GetCompositeSchedule', { duration: 3600, evseId: 1 });
    assert.equal(composite.status, 'Accepted');
    const schedule = composite.schedule as Record<string, unknown>;
    assert.deepEqual(
      [schedule.evseId, schedule.duration, schedule.chargingRateUnit, schedule.chargingSchedulePeriod],
      [1, 3600, 'A', [{ startPeriod: 0, limit: 10 }]],
    );
    assert.equal(cp.offeredA(1), 10);

    // A station-wide maximum in watts caps it: 4600 W on one phase is 20 A, 2070 W on three is 3 A.
    const max = (limit: number, numberPhases: number) => ({
      evseId: 0,
      chargingProfile: {
        id: 9,
        stackLevel: 0,
        chargingProfilePurpose: 'ChargingStationMaxProfile',
        chargingProfileKind: 'Absolute',
        chargingSchedule: [
          {
            id: 9,
            startSchedule: new Date(Date.now() - 60_000).toISOString(),
            chargingRateUnit: 'W',
            chargingSchedulePeriod: [{ startPeriod: 0, limit, numberPhases }],
          },
        ],
      },
    });
    assert.deepEqual(await call(at, cp, 'SetChargingProfile', max(4600, 1)), { status: 'Accepted' });
    assert.equal(cp.offeredA(1), 10);
    assert.deepEqual(
      await call(at, cp, 'SetChargingProfile', max(2070, 3)),
      { status: 'Accepted' },
      'same id',
    );
    assert.equal(cp.offeredA(1), 3);
    assert.equal(cp.profiles.installed.length, 2);
    assert.deepEqual(await call(at, cp, 'ClearChargingProfile', { chargingProfileId: 9 }), {
      status: 'Accepted',
    });
    assert.deepEqual(await call(at, cp, 'ClearChargingProfile', { chargingProfileId: 9 }), {
      status: 'Unknown',
    });
    assert.equal(cp.offeredA(1), 10);
    const rejected = await call(at, cp, 'SetChargingProfile', { ...max(2070, 3), evseId: 1 });
    assert.equal(rejected.status, 'Rejected', 'a ChargingStationMaxProfile only on EVSE 0');
    assert.deepEqual(cp.violations, []);
  });

  it('takes a TxProfile for the running transaction over the TxDefaultProfile, periods in order', async () => {
    const at = await csms();
    const cp = await booted(at);
    await call(at, cp, 'SetChargingProfile', txDefault(10));
    const { transactionId } = await cp.startTransaction(1, 'TAG-201');
    const periods = [
      { startPeriod: 0, limit: 16 },
      { startPeriod: 1800, limit: 8 },
    ];
    const txProfile = txDefault(0, {
      id: 2,
      chargingProfilePurpose: 'TxProfile',
      transactionId,
      chargingSchedule: [{ id: 2, chargingRateUnit: 'A', chargingSchedulePeriod: periods }],
    });
    assert.deepEqual(await call(at, cp, 'SetChargingProfile', txProfile), { status: 'Accepted' });
    assert.equal(cp.offeredA(1), 16);
    const composite = await call(at, cp, 'GetCompositeSchedule', { duration: 7200, evseId: 1 });
    const schedule = composite.schedule as { chargingSchedulePeriod: unknown[] };
    assert.deepEqual(schedule.chargingSchedulePeriod, [
      { startPeriod: 0, limit: 16 },
      { startPeriod: 1800, limit: 8 },
    ]);
    const reported = at.next('ReportChargingProfiles');
    assert.deepEqual(await call(at, cp, 'GetChargingProfiles', { requestId: 7, chargingProfile: {} }), {
      status: 'Accepted',
    });
    const report = await reported;
    assert.deepEqual((report.params.chargingProfile as { id: number }[]).map((p) => p.id).sort(), [1, 2]);
    await cp.stopTransaction(transactionId);
    assert.equal(cp.offeredA(1), 10, 'the TxProfile ended with its transaction');
    assert.deepEqual(at.problems, []);
    assert.deepEqual(cp.violations, []);
  });

  it('rejects a TxProfile for a transaction it does not run (strict), a lenient one accepts it', async () => {
    const at = await csms();
    const unknownTx = txDefault(6, {
      id: 3,
      chargingProfilePurpose: 'TxProfile',
      transactionId: 'NO-SUCH-TX',
    });
    const strict = await booted(at);
    const refused = await call(at, strict, 'SetChargingProfile', unknownTx);
    assert.deepEqual(refused, { status: 'Rejected', statusInfo: { reasonCode: 'UnknownTransaction' } });
    const lenient = await booted(at, { identity: 'CS201-LENIENT', strict: false });
    assert.deepEqual(await call(at, lenient, 'SetChargingProfile', unknownTx), { status: 'Accepted' });
    assert.equal(lenient.offeredA(1), 32, 'it applies to no running transaction');
    assert.deepEqual([...strict.violations, ...lenient.violations], []);
  });

  it('answers an invalid CALL from the CSMS with the 2.0.1 CallError and records it', async () => {
    const at = await csms();
    const cp = await booted(at);
    const cases: [unknown[], string][] = [
      [[2, 'raw-1', 'SetChargingProfile', { evseId: 1 }], 'OccurrenceConstraintViolation'],
      [[2, 'raw-2', 'SetChargingProfile', { ...txDefault(10), evseId: 'one' }], 'TypeConstraintViolation'],
      [[2, 'raw-3', 'Reset', { type: 'Now' }], 'PropertyConstraintViolation'],
      [[2, 'raw-4', 'Reset', { type: 'Immediate', when: 'now' }], 'PropertyConstraintViolation'],
      [[2, 'raw-5', 'RemoteStartTransaction', { idTag: 'X' }], 'NotImplemented'],
      [[2, 'raw-6', 'BootNotification', {}], 'NotSupported'],
      [[2, 'raw-7', 'Reset'], 'RpcFrameworkError'],
    ];
    for (const [frame, code] of cases) {
      const client = at.client(cp.identity);
      const answered = waitFor<[{ message: string; outbound: boolean }]>(
        client,
        'message',
        ({ message, outbound }) => !outbound && JSON.parse(message)[1] === frame[1],
      );
      client.sendRaw(JSON.stringify(frame));
      const [{ message }] = await answered;
      assert.deepEqual(JSON.parse(message).slice(0, 3), [4, frame[1], code], JSON.stringify(frame));
    }
    assert.equal(cp.violations.length, cases.length);
    assert.match(cp.violations[0] ?? '', /chargingProfile/);
    assert.match(cp.violations[3] ?? '', /\/when must NOT have additional properties/);
    assert.deepEqual(
      cp.received.map((r) => r.error?.code),
      cases.map(([, code]) => code),
    );
  });

  it('rejects a CALLRESULT that is invalid for its CALL and records it', async () => {
    const at = await csms({
      raw: {
        BootNotification: (id) => [3, id, { status: 'Accepted', interval: 300, currentTime: 'yesterday' }],
        Heartbeat: (id) => [3, id, { currentTime: new Date().toISOString(), tip: 'extra' }],
        Authorize: (id) => [4, id, 'FormationViolation', 'the 1.6 spelling', {}],
      },
    });
    const cp = new Charger201({ url: at.url, identity: 'CS201-1' });
    chargers.push(cp);
    await cp.connect();
    await assert.rejects(cp.boot(), /invalid CALLRESULT to BootNotification/);
    await assert.rejects(cp.heartbeat(), /invalid CALLRESULT to Heartbeat/);
    await assert.rejects(
      cp.authorize('TAG'),
      (err: CallError) => err.code === ('FormationViolation' as string),
    );
    assert.equal(cp.violations.length, 3, cp.violations.join('\n'));
    assert.match(cp.violations[0] ?? '', /currentTime must match format "date-time"/);
    assert.match(cp.violations[1] ?? '', /\/tip must NOT have additional properties/);
    assert.match(cp.violations[2] ?? '', /malformed CALLERROR to Authorize/);
  });

  it('queues TransactionEvents while offline and sends them in order, marked offline, after a reconnect', async () => {
    const at = await csms();
    const cp = await booted(at);
    await cp.queueOffline(true);
    await cp.close();
    const started = cp.startTransaction(1, 'TAG-OFF', { meterWh: 100 });
    const tx = cp.transactionOn(1);
    assert.ok(tx, 'the transaction runs while offline');
    const updated = cp.meterValues(tx.transactionId, { currentA: [10, 0, 0], energyWh: 600 });
    const ended = cp.stopTransaction(tx.transactionId, { energyWh: 900, stoppedReason: 'EVDisconnected' });
    await cp.connect();
    await cp.boot();
    const status = await call(at, cp, 'GetTransactionStatus', { transactionId: tx.transactionId });
    assert.deepEqual(status, { messagesInQueue: true, ongoingIndicator: false });
    assert.equal(at.got.filter((g) => g.method === 'TransactionEvent').length, 0);
    await cp.queueOffline(false);
    await Promise.all([started, updated, ended]);
    const events = at.got.filter((g) => g.method === 'TransactionEvent').map((g) => g.params);
    assert.deepEqual(
      events.map((e) => [e.eventType, e.seqNo, e.offline]),
      [
        ['Started', 0, true],
        ['Updated', 1, true],
        ['Ended', 2, true],
      ],
    );
    assert.deepEqual(events[2]?.transactionInfo, {
      transactionId: tx.transactionId,
      chargingState: 'Idle',
      stoppedReason: 'EVDisconnected',
    });
    assert.equal(events[2]?.triggerReason, 'EVCommunicationLost');
    assert.deepEqual(at.problems, []);
    assert.deepEqual(cp.violations, []);
  });

  it('starts and stops on request, triggers messages and keeps a device model', async () => {
    const at = await csms();
    const cp = await booted(at);
    const started = at.next('TransactionEvent');
    const idToken = { idToken: 'REMOTE-1', type: 'Central' };
    assert.deepEqual(await call(at, cp, 'RequestStartTransaction', { idToken, remoteStartId: 42 }), {
      status: 'Accepted',
    });
    const start = (await started).params;
    assert.equal(start.triggerReason, 'RemoteStart');
    assert.equal((start.transactionInfo as { remoteStartId: number }).remoteStartId, 42);
    const transactionId = cp.transactionOn(1)?.transactionId;
    const ended = at.next('TransactionEvent');
    assert.deepEqual(await call(at, cp, 'RequestStopTransaction', { transactionId }), { status: 'Accepted' });
    assert.equal((await ended).params.triggerReason, 'RemoteStop');
    assert.deepEqual(await call(at, cp, 'RequestStopTransaction', { transactionId }), { status: 'Rejected' });

    const heartbeat = at.next('Heartbeat');
    assert.deepEqual(await call(at, cp, 'TriggerMessage', { requestedMessage: 'Heartbeat' }), {
      status: 'Accepted',
    });
    await heartbeat;
    const variable = (component: string, name: string) => ({
      component: { name: component },
      variable: { name },
    });
    const set = await call(at, cp, 'SetVariables', {
      setVariableData: [
        { ...variable('OCPPCommCtrlr', 'HeartbeatInterval'), attributeValue: '30' },
        { ...variable('SmartChargingCtrlr', 'RateUnit'), attributeValue: 'A' },
      ],
    });
    assert.deepEqual(
      (set.setVariableResult as { attributeStatus: string }[]).map((r) => r.attributeStatus),
      ['Accepted', 'Rejected'],
    );
    const get = await call(at, cp, 'GetVariables', {
      getVariableData: [
        variable('OCPPCommCtrlr', 'HeartbeatInterval'),
        variable('OCPPCommCtrlr', 'Nope'),
        variable('NoSuchCtrlr', 'X'),
      ],
    });
    assert.deepEqual(
      (get.getVariableResult as { attributeStatus: string; attributeValue?: string }[]).map((r) => [
        r.attributeStatus,
        r.attributeValue,
      ]),
      [
        ['Accepted', '30'],
        ['UnknownVariable', undefined],
        ['UnknownComponent', undefined],
      ],
    );
    const report = at.next('NotifyReport');
    assert.deepEqual(await call(at, cp, 'GetBaseReport', { requestId: 3, reportBase: 'FullInventory' }), {
      status: 'Accepted',
    });
    assert.equal((await report).params.requestId, 3);
    cp.answerWith('Reset', () => {
      throw new CallError('NotSupported', 'not this one');
    });
    await assert.rejects(call(at, cp, 'Reset', { type: 'Immediate' }), /not this one/);
    cp.answerWith('Reset', () => ({ status: 'Scheduled' }));
    assert.deepEqual(await call(at, cp, 'Reset', { type: 'OnIdle' }), { status: 'Scheduled' });
    assert.deepEqual(at.problems, []);
    assert.deepEqual(cp.violations, []);
  });

  it('sends Basic auth, and rejects with the HTTP status when the CSMS refuses the upgrade', async () => {
    const at = await csms({ password: 'secret-201' });
    await booted(at, { password: 'secret-201' });
    const wrong = new Charger201({ url: at.url, identity: 'CS201-WRONG', password: 'nope' });
    chargers.push(wrong);
    await assert.rejects(wrong.connect(), (err: Error & { status?: number }) => err.status === 401);
  });
});
