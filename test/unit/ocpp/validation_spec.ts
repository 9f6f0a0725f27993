import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { OCPP_ACTIONS } from '../../../lib/ocpp/messages';
import { OCPP16_VALIDATOR } from '../../../lib/ocpp/v16/schemas';
import { findViolation, hasCompiledCheck } from '../../../lib/ocpp/v16/validation';
import { waitFor } from '../../support/events';
import { BOOT, callError, isoNow, useOcppHarness } from '../../support/ocpp';

/** Deviations real chargers send (research/ocpp-peers.md §2-3). */
const LONG_SERIAL = { ...BOOT, chargeBoxSerialNumber: 'EVB-P2145016-SCHNEIDER-ELECTRIC-X1' };
const FREQUENCY_IN_HZ = {
  connectorId: 1,
  meterValue: [
    {
      timestamp: isoNow(),
      sampledValue: [
        { value: '49.98', measurand: 'Frequency', unit: 'Hz' },
        { value: '12.5', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
      ],
    },
  ],
};
const EXTRA_PROPERTY = {
  connectorId: 1,
  errorCode: 'NoError',
  status: 'Available',
  vendorExtension: { fw: '1.2' },
};

/** Opens a raw WebSocket as a charger, to send frames ocpp-rpc would never produce. */
async function rawCharger(port: number, identity: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/${identity}`, ['ocpp1.6']);
  await waitFor(ws, 'open');
  return ws;
}

async function exchange(ws: WebSocket, frame: string): Promise<unknown[]> {
  const reply = waitFor<[Buffer]>(ws, 'message');
  ws.send(frame);
  return JSON.parse((await reply)[0].toString()) as unknown[];
}

describe('validation of charger messages', () => {
  const harness = useOcppHarness();

  describe('strict (the default)', () => {
    it('refuses an over-long serial number with PropertyConstraintViolation and logs charger, action and field', async () => {
      const cs = await harness().centralSystem();
      const client = harness().charger(cs, 'CP-STRICT');
      await client.connect();
      const refused = await callError(client.call('BootNotification', LONG_SERIAL));
      assert.equal(refused.code, 'PropertyConstraintViolation');
      assert.match(refused.message, /chargeBoxSerialNumber/);
      const logged = harness().log.matching(
        /CP-STRICT: BootNotification request breaks the OCPP 1\.6 schema, refused/,
        'warn',
      );
      assert.equal(logged.length, 1);
      assert.match(logged[0]?.message ?? '', /chargeBoxSerialNumber: must NOT have more than 25 characters/);
    });

    it('spells a missing field OccurenceConstraintViolation on ocpp1.6 connections (OCPP-J errata 5.1)', async () => {
      const cs = await harness().centralSystem();
      const client = harness().charger(cs, 'CP-16');
      await client.connect();
      const frames: string[] = [];
      cs.on('frame', ({ direction, frame }: { direction: string; frame: string }) => {
        if (direction === 'out') frames.push(frame);
      });
      const refused = await callError(client.call('BootNotification', { chargePointVendor: 'x' }));
      assert.equal(refused.code, 'OccurenceConstraintViolation');
      assert.ok(frames.some((frame) => frame.includes('"OccurenceConstraintViolation"')));
    });

    it('refuses unit Hz and extra properties with the 1.6 error names', async () => {
      const cs = await harness().centralSystem();
      const { client } = await harness().bootedCharger(cs, 'CP-STRICT');
      assert.equal(
        (await callError(client.call('MeterValues', FREQUENCY_IN_HZ))).code,
        'PropertyConstraintViolation',
      );
      assert.equal(
        (await callError(client.call('StatusNotification', EXTRA_PROPERTY))).code,
        'FormationViolation',
      );
      const wrongType = await callError(
        client.call('StatusNotification', { connectorId: '1', errorCode: 'NoError', status: 'Available' }),
      );
      assert.equal(wrongType.code, 'TypeConstraintViolation');
      const notAnObject = await callError(client.call('Heartbeat', 'beat'));
      assert.equal(notAnObject.code, 'TypeConstraintViolation');
    });
  });

  // Found by test/reliability/fuzz-ocpp_spec.ts.
  describe('values the JSON schemas let through but OCPP 1.6 rules out', () => {
    it('refuses connector ids OCPP 1.6 rules out and integers beyond 2^53, opening no transaction and no connector', async () => {
      const cs = await harness().centralSystem();
      const { client } = await harness().bootedCharger(cs, 'CP-ODD');
      const start = (connectorId: number, meterStart = 0) =>
        client.call('StartTransaction', { connectorId, idTag: 'TAG-1', meterStart, timestamp: isoNow() });
      for (const [call, field] of [
        [start(0), /connectorId: must be > 0/],
        [start(-1), /connectorId: must be > 0/],
        [start(1e300), /connectorId: must be an integer between/],
        [start(1, 2 ** 60), /meterStart: must be an integer between/],
        [
          client.call('StatusNotification', { connectorId: -3, errorCode: 'NoError', status: 'Charging' }),
          /connectorId: must be >= 0/,
        ],
        [
          client.call('StopTransaction', { transactionId: 1, meterStop: -1e300, timestamp: isoNow() }),
          /meterStop: must be an integer between/,
        ],
      ] as const) {
        const refused = await callError(call);
        assert.equal(refused.code, 'PropertyConstraintViolation', refused.message);
        assert.match(refused.message, field);
      }
      assert.deepEqual(cs.openTransactions(), []);
      assert.deepEqual(cs.connectors.all('CP-ODD'), []);
      // Zero is the main controller / main meter where 1.6 allows it.
      assert.deepEqual(
        await client.call('StatusNotification', {
          connectorId: 0,
          errorCode: 'NoError',
          status: 'Available',
        }),
        {},
      );
    });
  });

  describe('lenient chargers', () => {
    it('log each violation and process the message', async () => {
      const cs = await harness().centralSystem({ chargePoints: { 'CP-LENIENT': { lenient: true } } });
      const violations: unknown[] = [];
      cs.on('violation', (violation) => violations.push(violation));
      const client = harness().charger(cs, 'CP-LENIENT');
      await client.connect();
      const boot = (await client.call('BootNotification', LONG_SERIAL)) as { status: string };
      assert.equal(boot.status, 'Accepted');
      assert.equal(
        cs.chargePoint('CP-LENIENT')?.boot?.request.chargeBoxSerialNumber,
        LONG_SERIAL.chargeBoxSerialNumber,
      );

      const connector = waitFor<[{ connectorId: number; currentA?: unknown }]>(
        cs,
        'connector',
        (s) => s.connectorId === 1,
      );
      assert.deepEqual(await client.call('MeterValues', FREQUENCY_IN_HZ), {});
      assert.deepEqual((await connector)[0].currentA, [12.5, null, null]);
      assert.deepEqual(await client.call('StatusNotification', EXTRA_PROPERTY), {});
      assert.equal(cs.connectors.find('CP-LENIENT', 1)?.status, 'Available');

      assert.equal(violations.length, 3);
      assert.equal(
        harness().log.matching(/CP-LENIENT: .* breaks the OCPP 1\.6 schema, accepted \(lenient\)/).length,
        3,
      );
      assert.equal(cs.chargePoint('CP-LENIENT')?.lenient, true);
    });
  });

  describe('malformed frames', () => {
    it('answers them with 1.6 CallErrors and keeps the connection', async () => {
      const cs = await harness().centralSystem();
      const ws = await rawCharger(cs.port ?? 0, 'CP-RAW');
      try {
        const notJson = await exchange(ws, '[2, "1", "Heartbeat", {');
        assert.deepEqual(notJson.slice(0, 3), [4, '-1', 'FormationViolation']);
        const unknownType = await exchange(ws, '[7, "2", "Heartbeat", {}]');
        assert.equal(unknownType[2], 'FormationViolation');
        const unknownAction = await exchange(ws, '[2, "3", "FlyToTheMoon", {}]');
        assert.deepEqual(unknownAction.slice(0, 3), [4, '3', 'NotImplemented']);
        const wrongDirection = await exchange(ws, '[2, "4", "RemoteStartTransaction", {"idTag": "X"}]');
        assert.deepEqual(wrongDirection.slice(0, 3), [4, '4', 'NotSupported']);
        const boot = await exchange(ws, JSON.stringify([2, '5', 'BootNotification', BOOT]));
        assert.deepEqual(boot.slice(0, 2), [3, '5']);
        assert.equal(ws.readyState, WebSocket.OPEN);
      } finally {
        ws.close();
      }
    });

    it('closes the connection with 1009 on a frame larger than the limit, and nothing else', async () => {
      const cs = await harness().centralSystem({ maxFrameBytes: 64 * 1024 });
      const other = harness().charger(cs, 'CP-OTHER');
      await other.connect();
      const ws = await rawCharger(cs.port ?? 0, 'CP-HUGE');
      const closed = waitFor<[number]>(ws, 'close');
      ws.send(JSON.stringify([2, '1', 'DataTransfer', { vendorId: 'x', data: 'y'.repeat(100 * 1024) }]));
      assert.equal((await closed)[0], 1009);
      assert.deepEqual(await other.call('Heartbeat', {}).then((r) => Object.keys(r as object)), [
        'currentTime',
      ]);
    });
  });

  describe('our own answers', () => {
    it('a flow answer that would break the schema becomes the fallback, never a bad frame', async () => {
      const cs = await harness().centralSystem({ dataTransfer: 'flow' });
      cs.addRequestHandler((request) => {
        setImmediate(() => cs.respond(request.id, { status: 'Maybe' }));
        return true;
      });
      const { client } = await harness().bootedCharger(cs, 'CP-DT');
      const answer = await client.call('DataTransfer', { vendorId: 'ampflow', messageId: 'ping' });
      assert.deepEqual(answer, { status: 'UnknownVendorId' });
      assert.equal(
        harness().log.matching(/the flow answered DataTransfer .* invalid response/, 'error').length,
        1,
      );
    });
  });
});

describe('findViolation', () => {
  it('names the field and the rule, in a path a person can read', () => {
    const violation = findViolation('MeterValues', 'request', FREQUENCY_IN_HZ);
    assert.equal(violation?.errorCode, 'PropertyConstraintViolation');
    assert.match(
      violation?.summary ?? '',
      /^meterValue\[0\]\.sampledValue\[0\]\.unit: must be one of Wh, kWh/,
    );
  });

  it('finds an integer beyond 2^53 wherever the schema allows a number: deep in a list, behind a $ref', () => {
    const period = (limit: number) => ({ startPeriod: 0, limit });
    const profile = (limit: number) => ({
      connectorId: 1,
      csChargingProfiles: {
        chargingProfileId: 1,
        stackLevel: 0,
        chargingProfilePurpose: 'TxDefaultProfile' as const,
        chargingProfileKind: 'Absolute' as const,
        chargingSchedule: {
          chargingRateUnit: 'A' as const,
          chargingSchedulePeriod: [period(16), period(limit)],
        },
      },
    });
    const cases = [
      [
        findViolation('SetChargingProfile', 'request', profile(1e300)),
        'csChargingProfiles.chargingSchedule.chargingSchedulePeriod[1].limit',
      ],
      [
        findViolation('MeterValues', 'request', { connectorId: 1, transactionId: 2 ** 60, meterValue: [] }),
        'transactionId',
      ],
      [
        findViolation('GetLog', 'request', {
          logType: 'DiagnosticsLog',
          requestId: -(2 ** 55),
          log: { remoteLocation: 'ftp://x' },
        }),
        'requestId',
      ],
    ] as const;
    for (const [violation, field] of cases) {
      assert.equal(violation?.errorCode, 'PropertyConstraintViolation');
      assert.equal(violation?.summary, `${field}: must be an integer between -2^53 and 2^53`);
    }
    assert.equal(findViolation('SetChargingProfile', 'request', profile(2 ** 53 - 1)), undefined);
  });

  it('accepts both Celsius spellings (OCPP 1.6 errata)', () => {
    for (const unit of ['Celsius', 'Celcius'] as const) {
      const request = {
        connectorId: 1,
        meterValue: [
          { timestamp: isoNow(), sampledValue: [{ value: '21', measurand: 'Temperature' as const, unit }] },
        ],
      };
      assert.equal(findViolation('MeterValues', 'request', request), undefined);
    }
  });

  it("checks a valid payload with the schema's compiled check, an invalid one through the validator as before", () => {
    for (const action of OCPP_ACTIONS) {
      assert.ok(hasCompiledCheck(action, 'request'), `${action}.req`);
      assert.ok(hasCompiledCheck(action, 'response'), `${action}.conf`);
    }
    const validate = OCPP16_VALIDATOR.validate;
    const lookedUp: string[] = [];
    OCPP16_VALIDATOR.validate = (schemaId: string, params: unknown) => {
      lookedUp.push(schemaId);
      return validate.call(OCPP16_VALIDATOR, schemaId, params);
    };
    try {
      const valid = {
        ...FREQUENCY_IN_HZ,
        meterValue: [{ timestamp: isoNow(), sampledValue: [{ value: '7' }] }],
      };
      assert.equal(findViolation('MeterValues', 'request', valid), undefined);
      assert.equal(findViolation('MeterValues', 'response', {}), undefined);
      assert.deepEqual(lookedUp, []);
      assert.equal(findViolation('MeterValues', 'response', { extra: 1 })?.errorCode, 'FormationViolation');
      assert.equal(
        findViolation('BootNotification', 'request', LONG_SERIAL)?.errorCode,
        'PropertyConstraintViolation',
      );
      assert.deepEqual(lookedUp, ['urn:MeterValues.conf', 'urn:BootNotification.req']);
    } finally {
      OCPP16_VALIDATOR.validate = validate;
    }
  });
});
