import assert from 'node:assert/strict';
import { createRPCError } from 'ocpp-rpc';
import { ChargingProfileManager, type LimitReport, RETRY_REFUSED_AFTER_MS } from '../../../lib/profiles';
import { waitFor } from '../../support/events';
import { useTempDirectory } from '../interop/support';
import { pauseSession, refuseProfiles, STACK_LEVEL_0 } from './refusals';
import {
  actionsSent,
  NO_OFFLINE_FALLBACK,
  profilesSent,
  setPoint,
  settled,
  startCharging,
  useProfileRig,
} from './support';

const purposes = (report: LimitReport | undefined) =>
  report?.attempts.map((attempt) => {
    const request = attempt.request as {
      csChargingProfiles?: { chargingProfilePurpose: string; stackLevel: number };
      key?: string;
    };
    const profile = request.csChargingProfiles;
    return `${profile ? `${profile.chargingProfilePurpose}/${profile.stackLevel}` : (request.key ?? attempt.action)}${attempt.refused ? ' refused' : ''}`;
  });

describe('Profiles: falling back when a charger refuses', () => {
  const { rig, interop } = useProfileRig();
  const dataDirectory = useTempDirectory('ampflow-profiles-');

  /**
   * A central system on the data directory, a simulated ABB Terra AC with a car charging, and a
   * manager; `stop()` shuts all three down.
   */
  async function site(firmwareVersion: string) {
    const cs = await interop.harness().centralSystem({ dataDirectory: dataDirectory() });
    const { cp, clock } = interop.simulator(cs, 'CP1', {
      vendorBehaviour: 'abb-terra-ac',
      firmwareVersion,
      configuration: { MeterValueSampleInterval: 10 },
    });
    const manager = new ChargingProfileManager(cs, { clock, log: interop.harness().log });
    interop.track({ close: async () => manager.close() });
    await cp.connect();
    await startCharging(cp);
    const stop = async () => {
      manager.close();
      await cp.close();
      await cs.stop();
    };
    return { cs, cp, manager, stop };
  }

  it('what worked survives a restart of the central system; new firmware is learned afresh', async () => {
    const first = await site('1.0.0');
    const [learned] = await first.manager.apply(setPoint(10));
    assert.deepEqual(purposes(learned), ['TxProfile/8 refused', 'TxProfile/0']);
    const stored = first.cs.storedData('CP1', 'profiles') as { memory: unknown } | undefined;
    assert.deepEqual(stored?.memory, first.manager.charger('CP1')?.memory);
    await first.stop();

    // Node-RED restarted: the same data directory, the charger dials in again.
    const second = await site('1.0.0');
    const [direct] = await second.manager.apply(setPoint(9));
    assert.deepEqual(purposes(direct), ['TxProfile/0'], 'the refused stack level is not tried again');
    await second.stop();

    // A firmware update may take what the old firmware refused: every way is tried again.
    const third = await site('2.0.0');
    const [fresh] = await third.manager.apply(setPoint(8));
    assert.deepEqual(purposes(fresh), ['TxProfile/8 refused', 'TxProfile/0']);
  });

  it('an unknown charger that takes only stack level 0 gets it on the second try, and from then on at once', async () => {
    const { cp, manager, log } = await rig({ sim: { vendorBehaviour: 'abb-terra-ac' } });
    await startCharging(cp);
    const fallback = waitFor(manager, 'fallback');
    const [first] = await manager.apply(setPoint(10));
    assert.equal(first?.strategy, 'default');
    assert.deepEqual(purposes(first), ['TxProfile/8 refused', 'TxProfile/0']);
    assert.equal(first?.fallback, undefined, 'same purpose, other stack level');
    await fallback;
    assert.equal(
      log.matching(/TxProfile \(stackLevel 8, A\): SetChargingProfile answered Rejected/, 'warn').length,
      1,
    );
    assert.equal(cp.connector(1).offeredA, 10);
    const [second] = await manager.apply(setPoint(8));
    assert.deepEqual(purposes(second), ['TxProfile/0']);
    assert.deepEqual(manager.charger('CP1')?.memory, {
      worked: { 'session/limit': 'TxProfile/0/A' },
      refused: { 'session/limit': { 'TxProfile/8/A': 'SetChargingProfile answered Rejected' } },
    });
  });

  it('goes TxProfile → ChargePointMaxProfile during a session (TxDefaultProfile may not reach it), reports it, and remembers what worked', async () => {
    const { cp, manager } = await rig({
      sim: { configuration: STACK_LEVEL_0 },
    });
    refuseProfiles(cp, (purpose) => purpose !== 'ChargePointMaxProfile');
    await startCharging(cp);
    const [report] = await manager.apply(setPoint(11));
    assert.equal(report?.outcome, 'applied');
    // The default strategy does not count on a new TxDefaultProfile reaching the running session
    // (chargers that apply it from the next session on): it is not a way to limit a session now.
    assert.deepEqual(purposes(report), ['TxProfile/0 refused', 'ChargePointMaxProfile/0']);
    assert.deepEqual(report?.fallback, { from: 'TxProfile', to: 'ChargePointMaxProfile' });
    assert.equal(report?.method, 'ChargePointMaxProfile');
    assert.equal(cp.connector(1).offeredA, 11);
    assert.equal(report?.verification.schedule, 'matches');
    const [again] = await manager.apply(setPoint(9));
    assert.deepEqual(purposes(again), ['ChargePointMaxProfile/0']);
    assert.equal(cp.connector(1).offeredA, 9);
  });

  it('ends with the configuration key: EVlink R6/R7 refusing every profile ("Load balancer is disabled") gets maxIntensitySocket', async () => {
    const { cp, manager } = await rig({
      sim: {
        vendorBehaviour: 'schneider-evlink-r6-r7',
        chargePointVendor: 'Schneider Electric',
        chargePointModel: 'EVlink City',
        firmwareVersion: 'v3.2.0-12',
      },
    });
    cp.override('SetChargingProfile', () => ({ status: 'Rejected' }));
    await startCharging(cp);
    const [report] = await manager.apply(setPoint(12));
    assert.deepEqual(purposes(report), [
      'TxProfile/8 refused',
      'TxProfile/0 refused',
      'ChargePointMaxProfile/8 refused',
      'ChargePointMaxProfile/0 refused',
      'maxIntensitySocket',
    ]);
    assert.deepEqual(report?.fallback, { from: 'TxProfile', to: 'ConfigurationKey' });
    assert.equal(cp.connector(1).offeredA, 12);
  });

  it('puts the configuration key back once profiles work again; a refused restore is said once and goes again', async () => {
    const { cp, clock, manager, log } = await rig({
      sim: {
        vendorBehaviour: 'schneider-evlink-r6-r7',
        chargePointVendor: 'Schneider Electric',
        chargePointModel: 'EVlink City',
        firmwareVersion: 'v3.2.0-12',
      },
    });
    const baseline = cp.configuration.get('maxIntensitySocket');
    let profilesWork = false;
    cp.override('SetChargingProfile', (_request, next) => (profilesWork ? next() : { status: 'Rejected' }));
    await startCharging(cp);
    await manager.apply(setPoint(12));
    assert.equal(cp.configuration.get('maxIntensitySocket'), '12');
    // The charger's load balancer is back: profiles work, and the key must not keep the car at 12 A.
    profilesWork = true;
    let refusals = 1;
    cp.override('ChangeConfiguration', (request, next) =>
      request.key === 'maxIntensitySocket' && refusals-- > 0 ? { status: 'Rejected' } : next(),
    );
    clock.advance(RETRY_REFUSED_AFTER_MS);
    const [report] = await manager.apply(setPoint(16));
    await settled({ cp, manager });
    // Before the fix a Rejected restore counted as done: the key stayed at 12 A for good.
    assert.equal(report?.method, 'TxProfile');
    assert.equal(cp.configuration.get('maxIntensitySocket'), '12');
    assert.equal(log.matching(/refused to lift a charger-wide limit/, 'warn').length, 1);
    clock.advance(60_000);
    await settled({ cp, manager });
    assert.equal(cp.configuration.get('maxIntensitySocket'), baseline);
    assert.equal(cp.connector(1).offeredA, 16);
  });

  it('takes CALLERROR NotSupported as "no smart charging": every profile is skipped at once', async () => {
    const { cp, manager } = await rig({
      sim: { vendorBehaviour: 'schneider-evlink-r6-r7' },
      manager: { strategy: 'schneider-evlink-r6-r7' },
    });
    cp.override('SetChargingProfile', () => {
      throw createRPCError('NotSupported', 'smart charging is switched off');
    });
    await startCharging(cp);
    const [report] = await manager.apply(setPoint(12));
    assert.deepEqual(purposes(report), ['TxProfile/8 refused', 'maxIntensitySocket']);
    assert.match(report?.attempts[0]?.error ?? '', /CallError NotSupported/);
    const [idle] = await manager.apply(setPoint(10, { connectorId: 0 }));
    assert.deepEqual(purposes(idle), ['maxIntensitySocket']);
    assert.deepEqual(idle?.request, { key: 'maxIntensitySocket', value: '10' });
  });

  it('fails, with every refusal in the report, when nothing works; a charger without SmartCharging and no key fails at once', async () => {
    const { cp, clock, manager, log } = await rig({
      sim: { configuration: STACK_LEVEL_0 },
    });
    cp.override('SetChargingProfile', () => ({ status: 'Rejected' }));
    const limitEvent = waitFor<[LimitReport]>(manager, 'limit');
    const [report] = await manager.apply(setPoint(12));
    assert.equal(report?.outcome, 'failed');
    assert.deepEqual(purposes(report), ['TxDefaultProfile/0 refused', 'ChargePointMaxProfile/0 refused']);
    assert.match(report?.error ?? '', /CP1 connector 1 refused every way to set 12 A/);
    assert.equal((await limitEvent)[0].outcome, 'failed');
    // Asked again at once, it fails without a command and without another warning...
    const [again] = await manager.apply(setPoint(11));
    assert.equal(again?.outcome, 'failed');
    assert.deepEqual(again?.attempts, []);
    assert.equal(log.matching(/refused every way/, 'warn').length, 1);
    // ...and after 15 minutes every way is tried again: the installer may have fixed the charger.
    cp.override('SetChargingProfile', undefined);
    clock.advance(RETRY_REFUSED_AFTER_MS);
    const [later] = await manager.apply(setPoint(10));
    assert.equal(later?.outcome, 'applied');
    assert.deepEqual(purposes(later), ['TxDefaultProfile/0']);

    const r4 = await rig({
      identity: 'CP2',
      sim: { vendorBehaviour: 'schneider-evlink-r4-r5' },
      manager: { strategy: 'default' },
    });
    const [none] = await r4.manager.apply(setPoint(12, { chargePointId: 'CP2' }));
    assert.equal(none?.outcome, 'failed');
    assert.match(
      none?.error ?? '',
      /no way to set a limit on CP2 connector 1 .*no SmartCharging feature profile/,
    );
    assert.deepEqual(none?.attempts, []);
    // The load manager gets why as data, to word it in the user's language.
    assert.deepEqual(r4.cs.connectorOf('CP2', 1)?.limitFailed?.cause, {
      noWay: { strategy: 'default', noSmartCharging: true },
    });
  });

  it('remembers a refused pause apart: a charger that rejects 0 A is paused another way, limits still go as TxProfile', async () => {
    const { cp, clock, manager } = await rig({
      sim: { configuration: STACK_LEVEL_0 },
    });
    refuseProfiles(cp, (purpose, limit) => purpose === 'TxProfile' && limit === 0);
    const paused = await pauseSession({ cp, manager });
    // Not TxDefaultProfile 0 with the TxProfile cleared: on a charger that applies a TxDefaultProfile
    // from the next session only, that would give the session back the limit it started with.
    assert.deepEqual(purposes(paused), ['TxProfile/0 refused', 'ChargePointMaxProfile/0']);
    assert.equal(
      cp.connector(1).status,
      'SuspendedEVSE',
      'the ChargePointMaxProfile of 0 A holds the TxProfile of 16 A down; nothing was cleared',
    );
    const limiting = manager.apply(setPoint(6));
    clock.advance(10_000);
    const [limit] = await limiting;
    // The TxProfile takes over, and the ChargePointMaxProfile nothing needs any more goes.
    assert.deepEqual(purposes(limit), ['TxProfile/0', 'ClearChargingProfile']);
    assert.deepEqual(limit?.attempts[1]?.request, { id: 7100 });
    assert.equal(cp.connector(1).offeredA, 6);
    assert.deepEqual(
      cp.chargingProfiles.map((installed) => installed.profile.chargingProfilePurpose),
      ['TxProfile'],
    );
  });

  it('a RemoteStartTransaction with a profile the charger refuses is sent again without, and not with one again', async () => {
    const { cp, manager, commands } = await rig({
      sim: { vendorBehaviour: 'wallbox' },
      manager: { strategy: 'default' },
    });
    await manager.apply(setPoint(10));
    cp.plugIn(1, { maxCurrentA: 32 });
    const first = await manager.remoteStart({ chargePointId: 'CP1', connectorId: 1, idTag: 'TAG' });
    assert.equal(first.status, 'Accepted');
    assert.equal(first.attempts.length, 2);
    assert.equal(first.attempts[0]?.refused, true);
    assert.match(first.attempts[0]?.error ?? '', /ProtocolError/);
    await cp.whenIdle();
    await cp.stopTransaction(1);
    await cp.whenIdle();
    const second = await manager.remoteStart({ chargePointId: 'CP1', connectorId: 1, idTag: 'TAG' });
    assert.equal(second.attempts.length, 1);
    assert.deepEqual(second.attempts[0]?.request, { connectorId: 1, idTag: 'TAG' });
    assert.ok(actionsSent(commands).filter((action) => action === 'RemoteStartTransaction').length === 3);
  });

  it('embeds the limit as a TxProfile in RemoteStartTransaction where the charger takes it (5.16.2)', async () => {
    const { cp, manager, commands } = await rig();
    await manager.apply(setPoint(16));
    await manager.apply(setPoint(7, { connectorId: 1 }));
    cp.plugIn(1, { maxCurrentA: 32 });
    const started = await manager.remoteStart({ chargePointId: 'CP1', connectorId: 1, idTag: 'TAG' });
    assert.equal(started.embeddedLimitA, 7);
    const request = started.attempts[0]?.request as {
      chargingProfile?: { chargingProfilePurpose: string; transactionId?: number };
    };
    assert.equal(request.chargingProfile?.chargingProfilePurpose, 'TxProfile');
    assert.equal(request.chargingProfile?.transactionId, undefined, 'errata 3.41');
    await cp.whenIdle();
    assert.equal(cp.connector(1).offeredA, 7);
    // The profile now belongs to the transaction: the same limit is not sent again.
    const before = commands.length;
    const [same] = await manager.apply(setPoint(7));
    assert.equal(same?.outcome, 'duplicate');
    assert.deepEqual(profilesSent(commands, before), []);
  });

  it('a TxProfile refused because its transaction ended on the way is no fallback: the limit goes as TxDefaultProfile, no warning', async () => {
    const { cs, cp, manager, log } = await rig({ manager: NO_OFFLINE_FALLBACK });
    await startCharging(cp);
    // The transaction ends (a remote stop, a car unplugged) while the charger has the TxProfile in
    // hand: by the time it answers, there is no transaction for it, and it rejects it (3.13.1).
    const charger = cp as unknown as {
      handleCommand(action: string, request: unknown): Promise<unknown>;
    };
    const original = charger.handleCommand.bind(cp);
    let stopped = false;
    charger.handleCommand = async (action, request) => {
      if (action === 'SetChargingProfile' && !stopped) {
        stopped = true;
        const ended = waitFor(cs, 'session');
        void cp.stopTransaction(1, 'Remote');
        await ended;
      }
      return original(action, request);
    };
    const [report] = await manager.apply(setPoint(10));
    assert.ok(stopped, 'the transaction ended while its profile was on the way');
    assert.deepEqual(purposes(report), ['TxProfile/8 refused', 'TxDefaultProfile/8']);
    assert.equal(report?.outcome, 'applied');
    assert.equal(report?.fallback, undefined);
    assert.deepEqual(log.matching(/worked and is used from now on|refused every way/, 'warn'), []);
    assert.deepEqual(manager.charger('CP1')?.memory.refused, {}, 'nothing remembered as refused');
  });
});
