import assert from 'node:assert/strict';
import type { ConnectorState, Reading } from '../../../lib/contracts';
import type { OpenTransaction, SessionRecord } from '../../../lib/ocpp/central-state';
import { CHARGE_POINT_ACTIONS } from '../../../lib/ocpp/connection';
import type { MeterValuesPayload } from '../../../lib/ocpp/handlers';
import type { MeterValuesRequest } from '../../../lib/ocpp/messages';
import { AuthorizationError } from '../../../sim/charge-point';
import { waitFor } from '../../support/events';
import { advance, nextMessage, recordMessages, roundTrip, simTime, useInterop } from './support';

type SampledValue = MeterValuesRequest['meterValue'][number]['sampledValue'][number];

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('interop: charge-point messages arrive as `message` events in the package’s shapes', () => {
  const interop = useInterop();

  it('BootNotification: the request with the registration; the answer and the charger record follow', async () => {
    const cs = await interop.harness().centralSystem({ heartbeatIntervalS: 120 });
    // Every BootNotification field, set in the simulator: the request must carry each as it is.
    const request = {
      chargePointVendor: 'ampflow',
      chargePointModel: 'Wallbox 22',
      chargePointSerialNumber: 'SN-1',
      chargeBoxSerialNumber: 'BOX-1',
      firmwareVersion: '1.2.3',
      iccid: '8949000000000000001',
      imsi: '262010000000001',
      meterType: 'EM340',
      meterSerialNumber: 'M-1',
    };
    const { cp } = interop.simulator(cs, 'CP-1', { ...request });
    const arrived = nextMessage(cs, 'BootNotification');
    const boot = await cp.connect();
    const message = await arrived;
    assert.equal(message.chargePointId, 'CP-1');
    assert.deepEqual(message.request, request);
    assert.deepEqual(message.payload, { chargePointId: 'CP-1', registration: 'Accepted', ...request });
    assert.deepEqual(message.response, boot);
    assert.deepEqual(boot, { status: 'Accepted', currentTime: message.receivedAt, interval: 120 });
    assert.equal(cp.configuration.get('HeartbeatInterval'), '120');
    const record = cs.chargePoint('CP-1');
    assert.equal(record?.registration, 'Accepted');
    assert.deepEqual(record?.boot?.request, request);
    assert.equal(record?.connected, true);
    assert.equal(record?.protocol, 'ocpp1.6');
  });

  it('Heartbeat: sent on the simulator’s clock after the interval the central system gave; payload { chargePointId, at }', async () => {
    const cs = await interop.harness().centralSystem({ heartbeatIntervalS: 60 });
    const { cp, clock } = interop.simulator(cs, 'CP-1');
    await cp.connect();
    await cp.whenIdle();
    const arrived = nextMessage(cs, 'Heartbeat');
    clock.advance(60_000);
    const message = await arrived;
    assert.deepEqual(message.request, {});
    assert.deepEqual(message.payload, { chargePointId: 'CP-1', at: message.receivedAt });
    assert.deepEqual(message.response, { currentTime: message.receivedAt });
  });

  it('StatusNotification: the payload is the connector state, also emitted as `connector`', async () => {
    const cs = await interop.harness().centralSystem();
    const { cp, clock } = interop.simulator(cs, 'CP-1', { connectors: 2 });
    const messages = recordMessages(cs);
    await cp.connect();
    await cp.whenIdle();
    // Errata 3.22: after Accepted, connector 0 and every connector.
    assert.deepEqual(
      messages
        .filter((m) => m.action === 'StatusNotification')
        .map((m) => [(m.payload as ConnectorState).connectorId, (m.payload as ConnectorState).status]),
      [
        [0, 'Available'],
        [1, 'Available'],
        [2, 'Available'],
      ],
    );

    const arrived = nextMessage(cs, 'StatusNotification');
    const connector = waitFor<[ConnectorState]>(cs, 'connector', (s) => s.connectorId === 2);
    cp.setFault(2, 'GroundFailure', 'RCD tripped');
    const message = await arrived;
    assert.deepEqual(message.request, {
      connectorId: 2,
      errorCode: 'GroundFailure',
      status: 'Faulted',
      timestamp: simTime(clock),
      info: 'RCD tripped',
    });
    const payload = message.payload as ConnectorState;
    assert.deepEqual(payload, {
      chargePointId: 'CP-1',
      connectorId: 2,
      online: true,
      lastSeen: message.receivedAt,
      status: 'Faulted',
      errorCode: 'GroundFailure',
      info: 'RCD tripped',
      statusAt: simTime(clock),
    });
    assert.deepEqual((await connector)[0], payload);
    assert.deepEqual(message.response, {});
    assert.deepEqual(cs.connectors.find('CP-1', 2), payload);
  });

  it('MeterValues: a Reading with currents per phase, energy, power, offered current, SoC and the rest, in base units', async () => {
    const { cs, cp, clock } = await interop.connected('CP-1', {
      connectors: [{ phases: 3, maxCurrentA: 32, initialEnergyWh: 5000 }],
      configuration: {
        MeterValueSampleInterval: 60,
        MeterValuesSampledData:
          'Energy.Active.Import.Register,Power.Active.Import,Current.Import,Current.Offered,Power.Offered,Voltage,SoC,Temperature,Frequency',
      },
    });
    cp.plugIn(1, { phases: 3, maxCurrentA: 16, capacityKWh: 50, socPercent: 40 });
    await cp.startTransaction(1, 'TAG-1');
    await cp.whenIdle();
    const transactionId = cp.connector(1).transaction?.transactionId;
    const arrived = nextMessage(cs, 'MeterValues');
    await advance(cp, clock, 60_000);
    const message = await arrived;

    // The units on the wire are the 1.6 ones: Wh, W, A, V, Percent, Celsius; Frequency has none (7.31).
    const sampled = (message.request as MeterValuesRequest).meterValue[0]?.sampledValue ?? [];
    const unitOf = (measurand: string) => sampled.find((v: SampledValue) => v.measurand === measurand)?.unit;
    const units: [string, string | undefined][] = [
      ['Energy.Active.Import.Register', 'Wh'],
      ['Power.Active.Import', 'W'],
      ['Current.Import', 'A'],
      ['Current.Offered', 'A'],
      ['Power.Offered', 'W'],
      ['Voltage', 'V'],
      ['SoC', 'Percent'],
      ['Temperature', 'Celsius'],
      ['Frequency', undefined],
    ];
    assert.deepEqual(
      units.map(([measurand]) => [measurand, unitOf(measurand)]),
      units,
    );

    // 16 A on three phases at 230 V for one minute: 11 040 W, 184 Wh.
    const timestamp = simTime(clock);
    const socPercent = 40 + (184 / 50_000) * 100;
    const reading: Reading = {
      source: 'CP-1/1',
      timestamp,
      currentA: [16, 16, 16],
      voltageV: [230, 230, 230],
      totalPowerW: 11040,
      importWh: 5184,
      frequencyHz: 50,
      socPercent: Math.floor(socPercent),
      offeredCurrentA: 32,
      offeredPowerW: 32 * 230 * 3,
      temperatureC: 25,
    };
    const payload = message.payload as MeterValuesPayload;
    assert.deepEqual(payload, {
      ...reading,
      chargePointId: 'CP-1',
      connectorId: 1,
      transactionId,
      readings: [reading],
    });
    assert.deepEqual(message.response, {});

    const connector = cs.connectors.find('CP-1', 1);
    assert.deepEqual(
      {
        currentA: connector?.currentA,
        energyWh: connector?.energyWh,
        powerW: connector?.powerW,
        offeredCurrentA: connector?.offeredCurrentA,
        socPercent: connector?.socPercent,
        activePhases: connector?.activePhases,
      },
      {
        currentA: [16, 16, 16],
        energyWh: 5184,
        powerW: 11040,
        offeredCurrentA: 32,
        socPercent: Math.floor(socPercent),
        activePhases: [1, 2, 3],
      },
    );
  });

  it('Authorize: { chargePointId, idTag, idTagInfo } with the list’s decision, which the simulator obeys', async () => {
    const cs = await interop.harness().centralSystem({
      authorization: { policy: 'localList' },
      idTags: [
        { idTag: 'GOOD', status: 'Accepted', priority: 3 },
        { idTag: 'LOST', status: 'Blocked' },
        { idTag: 'VAN-1', status: 'Accepted', parentIdTag: 'FLEET' },
        { idTag: 'FLEET', status: 'Accepted' },
      ],
    });
    const { cp } = interop.simulator(cs, 'CP-1');
    await cp.connect();
    let arrived = nextMessage(cs, 'Authorize');
    assert.deepEqual(await cp.authorize('GOOD'), { status: 'Accepted' });
    assert.deepEqual((await arrived).payload, {
      chargePointId: 'CP-1',
      idTag: 'GOOD',
      idTagInfo: { status: 'Accepted' },
      priority: 3,
    });
    assert.deepEqual((await arrived).response, { idTagInfo: { status: 'Accepted' } });

    arrived = nextMessage(cs, 'Authorize');
    assert.deepEqual(await cp.authorize('VAN-1'), { status: 'Accepted', parentIdTag: 'FLEET' });
    assert.deepEqual((await arrived).payload, {
      chargePointId: 'CP-1',
      idTag: 'VAN-1',
      idTagInfo: { status: 'Accepted', parentIdTag: 'FLEET' },
    });

    arrived = nextMessage(cs, 'Authorize');
    cp.plugIn(1, {});
    await assert.rejects(cp.startTransaction(1, 'LOST'), (err: unknown) => {
      assert.ok(err instanceof AuthorizationError);
      assert.equal(err.status, 'Blocked');
      return true;
    });
    assert.deepEqual((await arrived).payload, {
      chargePointId: 'CP-1',
      idTag: 'LOST',
      idTagInfo: { status: 'Blocked' },
    });
    assert.deepEqual(cs.openTransactions(), []);
  });

  it('StartTransaction and StopTransaction: the open transaction, then the session record with energyWh and the transaction data', async () => {
    const { cs, cp, clock } = await interop.connected('CP-1', {
      connectors: [{ phases: 3, maxCurrentA: 32, initialEnergyWh: 1000 }],
      configuration: { MeterValueSampleInterval: 600 },
    });
    cp.plugIn(1, { phases: 3, maxCurrentA: 16 });
    const started = nextMessage(cs, 'StartTransaction');
    await cp.startTransaction(1, 'TAG-1');
    const start = await started;
    const startedAt = simTime(clock);
    const { transactionId } = start.response as { transactionId: number };
    assert.deepEqual(start.request, {
      connectorId: 1,
      idTag: 'TAG-1',
      meterStart: 1000,
      timestamp: startedAt,
    });
    assert.deepEqual(start.response, { transactionId, idTagInfo: { status: 'Accepted' } });
    const open: OpenTransaction = {
      transactionId,
      chargePointId: 'CP-1',
      connectorId: 1,
      idTag: 'TAG-1',
      idTagStatus: 'Accepted',
      meterStartWh: 1000,
      startedAt,
      receivedAt: start.receivedAt,
    };
    assert.deepEqual(start.payload, { ...open, idTagInfo: { status: 'Accepted' } });
    assert.deepEqual(cs.openTransactions(), [open]);

    await advance(cp, clock, 1_800_000, 600_000);
    const stopped = nextMessage(cs, 'StopTransaction');
    const session = waitFor<[SessionRecord]>(cs, 'session');
    await cp.stopTransaction(1, 'Local');
    const stop = await stopped;
    const meterStop = Math.round(cp.connector(1).energyWh);
    // 11 040 W for half an hour.
    assert.equal(meterStop, 1000 + 5520);
    const record: SessionRecord = {
      transactionId,
      chargePointId: 'CP-1',
      connectorId: 1,
      idTag: 'TAG-1',
      startedAt,
      meterStartWh: 1000,
      stoppedAt: simTime(clock),
      meterStopWh: meterStop,
      energyWh: 5520,
      stopReason: 'Local',
      stopIdTag: 'TAG-1',
    };
    const payload = stop.payload as SessionRecord & { readings: Reading[] };
    const { readings, ...sessionPart } = payload;
    assert.deepEqual(sessionPart, record);
    assert.deepEqual((await session)[0], record);
    // Transaction.Begin, three periodic samples, Transaction.End: the energy register at each.
    assert.deepEqual(
      readings.map((r) => [r.timestamp, r.importWh]),
      [
        [startedAt, 1000],
        [simTime(clock, -1_200_000), 2840],
        [simTime(clock, -600_000), 4680],
        [simTime(clock), 6520],
      ],
    );
    assert.ok(readings.every((r) => r.source === 'CP-1/1'));
    assert.deepEqual(stop.response, { idTagInfo: { status: 'Accepted' } });
    assert.deepEqual(cs.openTransactions(), []);
  });

  it('DataTransfer from the charge point: UnknownVendorId by default, the flow’s answer with dataTransfer: flow', async () => {
    const plain = await interop.harness().centralSystem();
    const { cp } = interop.simulator(plain, 'CP-1');
    await cp.connect();
    const arrived = nextMessage(plain, 'DataTransfer');
    const request = { vendorId: 'com.ampflow', messageId: 'hello', data: '{"a":1}' };
    assert.deepEqual(await cp.dataTransfer(request), { status: 'UnknownVendorId' });
    assert.deepEqual((await arrived).payload, { chargePointId: 'CP-1', ...request });

    const flow = await interop.harness().centralSystem({ dataTransfer: 'flow' });
    flow.addRequestHandler((asked) => {
      if (asked.action !== 'DataTransfer') return false;
      const data = (asked.request as { data?: string }).data;
      flow.respond(asked.id, { status: 'Accepted', data: `got ${data}` });
      return true;
    });
    const { cp: other } = interop.simulator(flow, 'CP-2');
    await other.connect();
    const answered = nextMessage(flow, 'DataTransfer');
    assert.deepEqual(await other.dataTransfer(request), { status: 'Accepted', data: 'got {"a":1}' });
    assert.deepEqual((await answered).response, { status: 'Accepted', data: 'got {"a":1}' });
  });

  it('the notifications are { chargePointId, ...request } and answered with {}', async () => {
    const { cs, cp, clock } = await interop.connected('CP-1');
    await cp.whenIdle();
    const messages = recordMessages(cs);
    await roundTrip(cs, cp, 'TriggerMessage', { requestedMessage: 'DiagnosticsStatusNotification' });
    await roundTrip(cs, cp, 'TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' });
    await roundTrip(cs, cp, 'ExtendedTriggerMessage', { requestedMessage: 'LogStatusNotification' });
    await roundTrip(cs, cp, 'ExtendedTriggerMessage', { requestedMessage: 'FirmwareStatusNotification' });
    cp.securityEvent('SettingSystemTime');
    await cp.whenIdle();
    assert.deepEqual(
      messages.map((m) => [m.action, m.payload, m.response]),
      [
        ['DiagnosticsStatusNotification', { chargePointId: 'CP-1', status: 'Idle' }, {}],
        ['FirmwareStatusNotification', { chargePointId: 'CP-1', status: 'Idle' }, {}],
        ['LogStatusNotification', { chargePointId: 'CP-1', status: 'Idle' }, {}],
        ['SignedFirmwareStatusNotification', { chargePointId: 'CP-1', status: 'Idle' }, {}],
        [
          'SecurityEventNotification',
          { chargePointId: 'CP-1', type: 'SettingSystemTime', timestamp: simTime(clock) },
          {},
        ],
      ],
    );
    assert.ok(messages.every((m) => ISO.test(m.receivedAt) && m.chargePointId === 'CP-1'));
  });

  it('one simulator sends every charge-point action the central system handles, and each arrives as a message', async () => {
    const cs = await interop.harness().centralSystem({ heartbeatIntervalS: 60 });
    const messages = recordMessages(cs);
    const { cp, clock } = interop.simulator(cs, 'CP-1', {
      fileTransferS: 5,
      configuration: { CpoName: 'Operator Ltd', MeterValueSampleInterval: 30 },
    });
    await cp.connect();
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG-1');
    await advance(cp, clock, 30_000);
    await cp.dataTransfer({ vendorId: 'com.ampflow' });
    await cp.requestCertificateSigning();
    cp.securityEvent('StartupOfTheDevice');
    await roundTrip(cs, cp, 'GetDiagnostics', { location: 'https://diag.example.com/' });
    await roundTrip(cs, cp, 'TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' });
    await roundTrip(cs, cp, 'GetLog', {
      logType: 'DiagnosticsLog',
      requestId: 1,
      log: { remoteLocation: 'https://logs.example.com/' },
    });
    await roundTrip(cs, cp, 'ExtendedTriggerMessage', { requestedMessage: 'FirmwareStatusNotification' });
    await cp.stopTransaction(1);
    await advance(cp, clock, 60_000);
    const seen = new Set(messages.map((m) => m.action));
    assert.deepEqual(
      CHARGE_POINT_ACTIONS.filter((action) => !seen.has(action)),
      [],
      'actions that never arrived',
    );
  });
});
