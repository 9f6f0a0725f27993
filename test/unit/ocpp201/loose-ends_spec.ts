import assert from 'node:assert/strict';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { CommandRefusedError, executeCommand } from '../../../lib/ocpp/commands';
import { in201Words } from '../../../lib/ocpp/v201/words';
import { ChargingProfileManager } from '../../../lib/profiles';
import { Charger201, type Charger201Options } from '../../support/charger201';
import { waitFor } from '../../support/events';
import { useOcppHarness } from '../../support/ocpp';

/**
 * OCPP 2.0.1's loose ends (issue 37) against a real 2.0.1 station on a WebSocket: Charger201
 * (test/support/charger201.ts: plain `ws`, typed-ocpp's copy of the OCA 2.0.1 schemas judging each
 * frame, nothing of ocpp-rpc or of the package's simulator).
 */

describe('OCPP 2.0.1: what a 2.0.1 station gets from commands written in 1.6 words', () => {
  const harness = useOcppHarness();
  const chargers: Charger201[] = [];
  const managers: ChargingProfileManager[] = [];
  afterEach(async () => {
    for (const manager of managers.splice(0)) manager.close();
    await Promise.all(chargers.splice(0).map((charger) => charger.close()));
  });

  async function station(
    cs: CentralSystem,
    identity = 'CS201',
    options: Partial<Charger201Options> = {},
  ): Promise<Charger201> {
    const url = `ws://127.0.0.1:${cs.port}${cs.pathPrefix}`;
    const charger = new Charger201({ url, identity, ...options });
    chargers.push(charger);
    await charger.connect();
    assert.equal((await charger.boot()).status, 'Accepted');
    return charger;
  }

  it('a Rejected to UpdateFirmware or GetLog (written as GetDiagnostics) is a refusal with the station’s status', async () => {
    const cs = await harness().centralSystem();
    const charger = await station(cs);
    charger.answerWith('UpdateFirmware', () => ({
      status: 'Rejected',
      statusInfo: { reasonCode: 'Busy' },
    }));
    charger.answerWith('GetLog', () => ({ status: 'Rejected' }));
    const update = executeCommand(cs, {
      chargePointId: 'CS201',
      action: 'UpdateFirmware',
      payload: { location: 'https://example.org/fw.bin', retrieveDate: new Date().toISOString() },
    });
    await assert.rejects(update, (err: unknown) => {
      assert.ok(err instanceof CommandRefusedError, String(err));
      assert.equal(err.message, 'charge point CS201 answered UpdateFirmware with Rejected (Busy)');
      assert.deepEqual(err.result.response, { status: 'Rejected', statusInfo: { reasonCode: 'Busy' } });
      return true;
    });
    await assert.rejects(
      executeCommand(cs, {
        chargePointId: 'CS201',
        action: 'GetDiagnostics',
        payload: { location: 'https://example.org/logs' },
      }),
      (err: unknown) =>
        err instanceof CommandRefusedError &&
        err.message === 'charge point CS201 answered GetDiagnostics with Rejected',
    );
    // Accepted still reads as 1.6 says it: UpdateFirmware.conf is empty, GetDiagnostics.conf has the file.
    charger.answerWith('UpdateFirmware', undefined);
    charger.answerWith('GetLog', undefined);
    const accepted = await executeCommand(cs, {
      chargePointId: 'CS201',
      action: 'UpdateFirmware',
      payload: { location: 'https://example.org/fw.bin', retrieveDate: new Date().toISOString() },
    });
    assert.deepEqual(accepted.response, {});
    const diagnostics = await executeCommand(cs, {
      chargePointId: 'CS201',
      action: 'GetDiagnostics',
      payload: { location: 'https://example.org/logs' },
    });
    assert.deepEqual(diagnostics.response, { fileName: 'CS201.log' });
    assert.deepEqual(charger.violations, []);
  });

  it('sends each id token back with the type the station reported it with (local list, reservation)', async () => {
    const cs = await harness().centralSystem();
    const charger = await station(cs);
    await executeCommand(cs, {
      action: 'SetIdTags',
      payload: {
        idTags: [
          { idTag: 'CARD-1', status: 'Accepted' },
          { idTag: 'NEVER-SEEN', status: 'Accepted' },
        ],
      },
    });
    assert.equal((await charger.authorize('CARD-1', 'ISO14443')).idTokenInfo.status, 'Accepted');
    await executeCommand(cs, { chargePointId: 'CS201', action: 'PushLocalList', payload: { full: true } });
    const pushed = charger.received.find((call) => call.action === 'SendLocalList')?.payload as {
      localAuthorizationList: { idToken: { idToken: string; type: string } }[];
    };
    assert.deepEqual(
      pushed.localAuthorizationList.map((entry) => entry.idToken),
      [
        { idToken: 'CARD-1', type: 'ISO14443' },
        { idToken: 'NEVER-SEEN', type: 'Central' },
      ],
    );
    await executeCommand(cs, {
      chargePointId: 'CS201',
      action: 'ReserveNow',
      payload: {
        connectorId: 1,
        expiryDate: new Date(Date.now() + 3_600_000).toISOString(),
        idTag: 'CARD-1',
        reservationId: 4,
      },
    });
    const reserved = charger.received.find((call) => call.action === 'ReserveNow')?.payload as {
      idToken: { idToken: string; type: string };
    };
    assert.deepEqual(reserved.idToken, { idToken: 'CARD-1', type: 'ISO14443' });
    assert.deepEqual(charger.violations, []);
  });

  it('answers NotifyEVChargingNeeds Rejected where no load manager will send a schedule, Accepted where one manages the station', async () => {
    const cs = await harness().centralSystem();
    const charger = await station(cs);
    await charger.status(1, 'Occupied');
    const needs = {
      evseId: 1,
      chargingNeeds: {
        requestedEnergyTransfer: 'AC_three_phase',
        acChargingParameters: { energyAmount: 20_000, evMinCurrent: 6, evMaxCurrent: 16, evMaxVoltage: 400 },
      },
    } as const;
    const alone = await charger.send('NotifyEVChargingNeeds', needs);
    assert.equal(alone.status, 'Rejected');
    assert.equal(alone.statusInfo?.reasonCode, 'NoSchedule');
    assert.equal(cs.connectorOf('CS201', 1)?.carNeeds?.maxA, 16, 'the needs are kept all the same');
    const stop = cs.composeOperatorLimits((chargePointId) => chargePointId === 'CS201');
    assert.deepEqual(await charger.send('NotifyEVChargingNeeds', needs), { status: 'Accepted' });
    stop();
    assert.deepEqual(charger.violations, []);
  });

  // 39 items (3146 bytes) in one request before: 4 items a part, or the bytes first (6 a part).
  for (const limits of [
    { items: 4, bytes: 4000 },
    { items: 20, bytes: 600 },
  ])
    it(`reads the configuration at boot in GetVariables of at most ${limits.items} items and ${limits.bytes} bytes (ItemsPerMessage, BytesPerMessage)`, async () => {
      const cs = await harness().centralSystem({ readConfigurationOnBoot: true });
      const read = waitFor(cs, 'command', (event: { action: string }) => event.action === 'GetConfiguration');
      const charger = await station(cs, 'CS201', { getVariablesLimits: limits });
      await read;
      const keys = cs.recordOf('CS201')?.configuration?.keys ?? [];
      const value = (key: string) => keys.find((entry) => entry.key === key)?.value;
      assert.equal(value('ChargeProfileMaxStackLevel'), '9');
      assert.equal(value('HeartbeatInterval'), '60');
      assert.equal(value('NumberOfConnectors'), '1');
      const reads = charger.received.filter((call) => call.action === 'GetVariables');
      assert.ok(reads.length > 2, `${reads.length} GetVariables`);
      for (const call of reads) {
        assert.ok((call.payload as { getVariableData: unknown[] }).getVariableData.length <= limits.items);
        assert.ok((call.bytes ?? 0) <= limits.bytes, `${call.bytes} bytes`);
        assert.equal(call.error, undefined);
      }
      assert.deepEqual(charger.violations, []);
    });

  it('says why a limit failed in 2.0.1’s words to a 2.0.1 station (ChargingStationMaxProfile, EVSE, its variables)', async () => {
    assert.equal(
      in201Words('its limits go at stack level 0 (ChargeProfileMaxStackLevel unknown) on connector 2'),
      'its limits go at stack level 0 (SmartChargingCtrlr.ProfileStackLevel unknown) on EVSE 2',
    );
    const cs = await harness().centralSystem();
    const charger = await station(cs);
    charger.answerWith('SetChargingProfile', () => ({ status: 'Rejected' }));
    const manager = new ChargingProfileManager(cs, { increaseIntervalMs: 0 });
    managers.push(manager);
    await manager.apply({ chargePointId: 'CS201', connectorId: 1, limitA: 10, reason: 'test' });
    await manager.whenSettled('CS201');
    const why = cs.connectorOf('CS201', 1)?.limitFailed?.why ?? '';
    assert.match(why, /ChargingStationMaxProfile/, why);
    assert.doesNotMatch(why, /ChargePointMaxProfile|connector \d/, why);
    assert.deepEqual(charger.violations, []);
  });

  it('gives a station that does not report ProfileStackLevel the fallback every 2.0.1 station takes: TxDefaultProfile on EVSE 0 at level 0', async () => {
    const cs = await harness().centralSystem();
    const charger = await station(cs);
    charger.variables.delete('SmartChargingCtrlr.ProfileStackLevel'); // it then takes stack level 0 only
    const manager = new ChargingProfileManager(cs, { increaseIntervalMs: 0 });
    managers.push(manager);
    await manager.apply({ chargePointId: 'CS201', connectorId: 1, limitA: 16, reason: 'test' });
    await manager.whenSettled('CS201');
    const state = cs.connectorOf('CS201', 1);
    assert.equal(state?.keepsLimitOffline, undefined, state?.keepsLimitOffline?.why);
    assert.equal(state?.offlineFallback?.limitA, 6);
    const installed = charger.profiles.installed.map(({ evseId, profile }) => ({
      evseId,
      purpose: profile.chargingProfilePurpose,
      stackLevel: profile.stackLevel,
      validTo: profile.validTo !== undefined,
    }));
    assert.deepEqual(
      installed.sort((a, b) => a.evseId - b.evseId),
      [
        { evseId: 0, purpose: 'TxDefaultProfile', stackLevel: 0, validTo: false },
        { evseId: 1, purpose: 'TxDefaultProfile', stackLevel: 0, validTo: true },
      ],
    );
    // The station's own composite schedule: 16 A while ampflow keeps it, 6 A once its limit ends.
    assert.equal(charger.profiles.limitAt(1, Date.now()).limitA, 16);
    assert.equal(charger.profiles.limitAt(1, Date.now() + 301_000).limitA, 6);
    assert.deepEqual(charger.violations, []);
  });
});
