import assert from 'node:assert/strict';
import type { RPCClient } from 'ocpp-rpc';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { executeCommand } from '../../../lib/ocpp/commands';
import { answer } from '../../support/charge-point';
import { callError, useOcppHarness } from '../../support/ocpp';

/**
 * An OCPP 2.0.1 charger (ocpp-rpc's client in strict 2.0.1 mode: every frame both ways checked
 * against the OCA 2.0.1 schemas) in the same central system as 1.6 chargers: the sub-protocol
 * picks the version, its messages reach the shared model, and a session ends in the CDRs.
 */

const BOOT_201 = { reason: 'PowerUp', chargingStation: { model: 'EVSE-2', vendorName: 'Vendor201' } };

function energy(wh: number, context = 'Sample.Periodic') {
  return {
    timestamp: new Date().toISOString(),
    sampledValue: [
      {
        value: wh / 1000,
        context,
        measurand: 'Energy.Active.Import.Register',
        unitOfMeasure: { unit: 'kWh' },
      },
    ],
  };
}

describe('OCPP 2.0.1 chargers in the central system', () => {
  const harness = useOcppHarness();

  async function booted(cs: CentralSystem, identity: string, protocols = ['ocpp2.0.1']): Promise<RPCClient> {
    const client = harness().charger(cs, identity, { protocols, strictMode: true });
    await client.connect();
    const boot = (await client.call('BootNotification', BOOT_201)) as { status: string; interval: number };
    assert.equal(boot.status, 'Accepted');
    return client;
  }

  it('serves a charger that offers only ocpp2.0.1, and 1.6 first to one that offers both', async () => {
    const cs = await harness().centralSystem();
    const only201 = await booted(cs, 'CS201');
    assert.equal(only201.protocol, 'ocpp2.0.1');
    assert.equal(cs.bootOf('CS201')?.chargePointVendor, 'Vendor201');
    const both = harness().charger(cs, 'BOTH', { protocols: ['ocpp2.0.1', 'ocpp1.6'] });
    await both.connect();
    assert.equal(both.protocol, 'ocpp1.6', 'the configured preference');
    const preferring = await harness().centralSystem({ protocols: ['ocpp2.0.1', 'ocpp1.6'] });
    const both2 = harness().charger(preferring, 'BOTH2', { protocols: ['ocpp1.6', 'ocpp2.0.1'] });
    await both2.connect();
    assert.equal(both2.protocol, 'ocpp2.0.1');
  });

  it('runs a session: status, TransactionEvent Started/Updated/Ended, one charge data record with the charger’s id', async () => {
    const cs = await harness().centralSystem();
    const client = await booted(cs, 'CS201');
    const now = () => new Date().toISOString();
    await client.call('StatusNotification', {
      timestamp: now(),
      connectorStatus: 'Occupied',
      evseId: 1,
      connectorId: 1,
    });
    assert.equal(cs.connectorOf('CS201', 1)?.status, 'Preparing');
    const started = (await client.call('TransactionEvent', {
      eventType: 'Started',
      timestamp: now(),
      triggerReason: 'Authorized',
      seqNo: 0,
      transactionInfo: { transactionId: 'TX-A', chargingState: 'Charging' },
      evse: { id: 1, connectorId: 1 },
      idToken: { idToken: 'TAG-201', type: 'ISO14443' },
      meterValue: [energy(1000, 'Transaction.Begin')],
    })) as { idTokenInfo?: { status: string } };
    assert.equal(started.idTokenInfo?.status, 'Accepted');
    const state = cs.connectorOf('CS201', 1);
    assert.equal(state?.status, 'Charging');
    assert.equal(state?.transaction?.idTag, 'TAG-201');
    await client.call('TransactionEvent', {
      eventType: 'Updated',
      timestamp: now(),
      triggerReason: 'MeterValuePeriodic',
      seqNo: 1,
      transactionInfo: { transactionId: 'TX-A' },
      meterValue: [
        {
          timestamp: now(),
          sampledValue: [
            { value: 16, measurand: 'Current.Import', phase: 'L1', unitOfMeasure: { unit: 'A' } },
            { value: 16, measurand: 'Current.Import', phase: 'L2', unitOfMeasure: { unit: 'A' } },
            { value: 16, measurand: 'Current.Import', phase: 'L3', unitOfMeasure: { unit: 'A' } },
          ],
        },
      ],
    });
    assert.deepEqual(cs.connectorOf('CS201', 1)?.currentA, [16, 16, 16]);
    await client.call('TransactionEvent', {
      eventType: 'Ended',
      timestamp: now(),
      triggerReason: 'StopAuthorized',
      seqNo: 2,
      transactionInfo: { transactionId: 'TX-A', chargingState: 'EVConnected', stoppedReason: 'Local' },
      meterValue: [energy(5500, 'Transaction.End')],
    });
    assert.equal(cs.connectorOf('CS201', 1)?.status, 'Finishing');
    const sessions = [];
    for await (const session of cs.sessions()) sessions.push(session);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]?.chargerTransactionId, 'TX-A');
    assert.equal(sessions[0]?.energyWh, 4500);
    assert.equal(sessions[0]?.idTag, 'TAG-201');
    assert.match(await cs.exportSessionsCsv(), /TX-A/);
    assert.deepEqual(harness().log.matching(/./, 'error'), []);
  });

  it('sends the central system’s commands as 2.0.1 commands and reads their answers back', async () => {
    const cs = await harness().centralSystem();
    const client = await booted(cs, 'CS201');
    const got: { method: string; params: unknown }[] = [];
    const variables = {
      getVariableResult: [
        {
          attributeStatus: 'Accepted',
          attributeValue: 'A,W',
          component: { name: 'SmartChargingCtrlr' },
          variable: { name: 'RateUnit' },
        },
      ],
    };
    for (const [method, response] of [
      ['SetChargingProfile', { status: 'Accepted' }],
      ['GetVariables', variables],
      ['Reset', { status: 'Accepted' }],
    ] as const)
      answer(client, method, (params) => {
        got.push({ method, params });
        return response;
      });
    const set = await cs.call('CS201', 'SetChargingProfile', {
      connectorId: 1,
      csChargingProfiles: {
        chargingProfileId: 7,
        stackLevel: 1,
        chargingProfilePurpose: 'TxDefaultProfile',
        chargingProfileKind: 'Relative',
        chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] },
      },
    });
    assert.deepEqual(set, { status: 'Accepted' });
    assert.equal(got[0]?.method, 'SetChargingProfile');
    assert.equal((got[0]?.params as { evseId?: number } | undefined)?.evseId, 1);
    const config = await cs.call('CS201', 'GetConfiguration', {
      key: ['ChargingScheduleAllowedChargingRateUnit'],
    });
    assert.deepEqual(config.configurationKey, [
      { key: 'ChargingScheduleAllowedChargingRateUnit', readonly: true, value: 'Current,Power' },
    ]);
    const reset = await cs.call('CS201', 'Reset', { type: 'Soft' });
    assert.deepEqual(reset, { status: 'Accepted' });
    assert.deepEqual(got[2], { method: 'Reset', params: { type: 'OnIdle' } });
  });

  it('sends a command written in 2.0.1’s own words as it is, and refuses a 2.0.1-only one to a 1.6 charger', async () => {
    const cs = await harness().centralSystem();
    const client = await booted(cs, 'CS201');
    const got: { method: string; params: unknown }[] = [];
    for (const [method, response] of [
      [
        'SetVariables',
        {
          setVariableResult: [
            {
              attributeStatus: 'Accepted',
              component: { name: 'OCPPCommCtrlr' },
              variable: { name: 'HeartbeatInterval' },
            },
          ],
        },
      ],
      ['SetChargingProfile', { status: 'Accepted' }],
    ] as const)
      answer(client, method, (params) => {
        got.push({ method, params });
        return response;
      });
    const setVariables = {
      setVariableData: [
        {
          attributeValue: '120',
          component: { name: 'OCPPCommCtrlr' },
          variable: { name: 'HeartbeatInterval' },
        },
      ],
    };
    const result = await executeCommand(cs, {
      chargePointId: 'CS201',
      action: 'SetVariables',
      payload: setVariables,
    });
    assert.deepEqual(got[0], { method: 'SetVariables', params: setVariables });
    assert.equal((result.response as { setVariableResult: unknown[] }).setVariableResult.length, 1);
    const profile = {
      evseId: 1,
      chargingProfile: {
        id: 5,
        stackLevel: 2,
        chargingProfilePurpose: 'TxDefaultProfile',
        chargingProfileKind: 'Relative',
        chargingSchedule: [
          { id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 11 }] },
        ],
      },
    };
    await executeCommand(cs, { chargePointId: 'CS201', action: 'SetChargingProfile', payload: profile });
    assert.deepEqual(got[1], { method: 'SetChargingProfile', params: profile }, 'not translated again');
    await assert.rejects(
      executeCommand(cs, {
        chargePointId: 'CS201',
        action: 'SetVariables',
        payload: { setVariableData: [] },
      }),
      /SetVariables to CS201 \(OCPP 2\.0\.1\): setVariableData: must NOT have fewer than 1 items/,
    );
    await harness().bootedCharger(cs, 'CP16');
    await assert.rejects(
      executeCommand(cs, { chargePointId: 'CP16', action: 'SetVariables', payload: setVariables }),
      /SetVariables is not a command a central system sends \(an OCPP 2\.0\.1 command; CP16 speaks OCPP 1\.6\)/,
    );
  });

  it('refuses what breaks OCPP 2.0.1 with the CallError 2.0.1 names, the charger named in the log', async () => {
    const cs = await harness().centralSystem();
    const client = harness().charger(cs, 'LOOSE', { protocols: ['ocpp2.0.1'], strictMode: false });
    await client.connect();
    await client.call('BootNotification', BOOT_201);
    const missing = await callError(client.call('BootNotification', { reason: 'PowerUp' }));
    assert.equal(missing.code, 'OccurrenceConstraintViolation', 'spelt as 2.0.1 spells it');
    const station = await callError(
      client.call('StatusNotification', {
        timestamp: new Date().toISOString(),
        connectorStatus: 'Available',
        evseId: 0,
        connectorId: 1,
      }),
    );
    assert.deepEqual(station, {
      code: 'PropertyConstraintViolation',
      message: 'StatusNotification request: evseId: must be > 0',
    });
    const onlyIn16 = await callError(
      client.call('StartTransaction', {
        connectorId: 1,
        idTag: 'X',
        meterStart: 0,
        timestamp: new Date().toISOString(),
      }),
    );
    assert.equal(onlyIn16.code, 'NotImplemented');
    assert.equal(
      harness().log.matching(
        /charge point LOOSE: StatusNotification request breaks the OCPP 2\.0\.1 schema, refused/,
      ).length,
      1,
    );
    assert.equal(cs.connectorOf('LOOSE', 0), undefined, 'nothing of the refused status was taken');
  });
});
