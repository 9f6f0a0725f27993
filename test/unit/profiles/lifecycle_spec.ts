import assert from 'node:assert/strict';
import { SetPointError } from '../../../lib/profiles';
import { waitFor } from '../../support/events';
import { advance, type CommandEvent, nextMessage } from '../interop/support';
import { refuseProfiles } from './refusals';
import {
  actionsSent,
  NO_OFFLINE_FALLBACK,
  profilesSent,
  setPoint,
  startCharging,
  useProfileRig,
} from './support';

const sentCommand = (cs: NodeJS.EventEmitter, action: string) =>
  waitFor<[CommandEvent]>(cs, 'command', (event) => event.action === action);

describe('Profiles: set-points over a charger’s life', () => {
  const { rig } = useProfileRig();

  describe('dedupe and rate limits', () => {
    it('does not send a set-point the charger already has, nor the idle limit again when a session starts', async () => {
      const { cp, manager, commands } = await rig();
      const [first] = await manager.apply(setPoint(16));
      assert.equal(first?.outcome, 'applied');
      const before = commands.length;
      const [again] = await manager.apply(setPoint(16, { reason: 'same again' }));
      assert.equal(again?.outcome, 'duplicate');
      await startCharging(cp);
      const [during] = await manager.apply(setPoint(16));
      assert.equal(
        during?.outcome,
        'duplicate',
        'the TxDefaultProfile installed before the session applies to it',
      );
      assert.deepEqual(commands.slice(before), []);
      assert.equal(cp.connector(1).offeredA, 16);
      // Rounding to 0.1 A makes 16.04 the same limit.
      assert.equal((await manager.apply(setPoint(16.04)))[0]?.outcome, 'duplicate');
    });

    it('tells the central system which limit the charger confirmed (ConnectorState.limitInForce), and nothing for a refused one', async () => {
      // Without the offline fallback: its confirmation is published with the connector too
      // (offline-fallback_spec.ts), and this counts the publications of limits. Without it the
      // connector is said once to keep its last limit offline (keepsLimitOffline, issue 36): that
      // publication, before its first limit is in force, is not one of a limit.
      const { cp, cs, manager } = await rig({ manager: NO_OFFLINE_FALLBACK });
      await startCharging(cp);
      const seen: (number | undefined)[] = [];
      cs.on('connector', (state) => {
        if (state.keepsLimitOffline && !state.limitInForce) return;
        if (state.chargePointId === 'CP1' && state.connectorId === 1) seen.push(state.limitInForce?.limitA);
      });
      assert.equal((await manager.apply(setPoint(16)))[0]?.outcome, 'applied');
      assert.equal(cs.connectorOf('CP1', 1)?.limitInForce?.limitA, 16);
      assert.deepEqual(seen, [16], 'published with the connector state');
      const first = cs.connectorOf('CP1', 1)?.limitInForce?.since ?? '';
      // The same limit again is confirmed again: from now on, too.
      assert.equal((await manager.apply(setPoint(16)))[0]?.outcome, 'duplicate');
      assert.ok((cs.connectorOf('CP1', 1)?.limitInForce?.since ?? '') >= first);
      assert.deepEqual(seen, [16, 16]);
      refuseProfiles(cp, () => true);
      assert.equal((await manager.apply(setPoint(8)))[0]?.outcome, 'failed');
      assert.equal(cs.connectorOf('CP1', 1)?.limitInForce?.limitA, 16, 'a refused limit is not in force');
    });

    it('sends decreases at once and holds an increase until 10 s after the last change', async () => {
      const { cp, clock, manager, commands } = await rig();
      await startCharging(cp);
      await manager.apply(setPoint(16));
      clock.advance(3000);
      const [down] = await manager.apply(setPoint(10));
      assert.equal(down?.outcome, 'applied');
      const before = commands.length;
      const up = manager.apply(setPoint(14));
      clock.advance(9999);
      await cp.whenIdle();
      assert.deepEqual(profilesSent(commands, before), [], 'held');
      assert.equal(manager.charger('CP1')?.connectors[0]?.held, true);
      clock.advance(1);
      const [raised] = await up;
      assert.equal(raised?.outcome, 'applied');
      assert.equal(cp.connector(1).offeredA, 14);
    });

    it('a decrease overtakes a held increase, which is dropped (superseded)', async () => {
      const { cp, clock, manager, commands } = await rig();
      await startCharging(cp);
      await manager.apply(setPoint(10));
      const before = commands.length;
      const up = manager.apply(setPoint(20));
      const down = manager.apply(setPoint(8));
      assert.equal((await up)[0]?.outcome, 'superseded');
      assert.equal((await down)[0]?.outcome, 'applied');
      clock.advance(60_000);
      await cp.whenIdle();
      const limits = profilesSent(commands, before).map(
        (request) => request.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]?.limit,
      );
      assert.deepEqual(limits, [8]);
      assert.equal(cp.connector(1).offeredA, 8);
    });

    it('rate-limits increases per connector only, and can be switched off', async () => {
      const { cp, manager } = await rig({ sim: { connectors: 2 }, manager: { increaseIntervalMs: 0 } });
      await startCharging(cp, 1);
      await startCharging(cp, 2);
      const reports = await manager.apply([setPoint(8), setPoint(8, { connectorId: 2 })]);
      assert.deepEqual(
        reports.map((report) => report.outcome),
        ['applied', 'applied'],
      );
      const [up] = await manager.apply(setPoint(16));
      assert.equal(up?.outcome, 'applied');
      assert.deepEqual([cp.connector(1).offeredA, cp.connector(2).offeredA], [16, 8]);
    });
  });

  describe('pause and resume', () => {
    it('pauses with 0 A (SuspendedEVSE) and resumes with the limit before the pause', async () => {
      const { cp, clock, manager } = await rig();
      await startCharging(cp);
      await manager.apply(setPoint(13, { phases: 1 }));
      const paused = await manager.pause('CP1', 1);
      assert.equal(paused.limitA, 0);
      assert.equal(paused.method, 'TxProfile');
      assert.equal(cp.connector(1).status, 'SuspendedEVSE');
      clock.advance(10_000);
      const resumed = await manager.resume('CP1', 1);
      assert.equal(resumed.limitA, 13);
      assert.equal(resumed.phases, 1);
      assert.equal(cp.connector(1).status, 'Charging');
      assert.equal(cp.connector(1).offeredA, 13);
      await assert.rejects(manager.resume('CP1', 2), SetPointError);
    });

    it('takes a limit below 6 A as a pause: IEC 61851 cannot signal less', async () => {
      const { manager } = await rig();
      const [report] = await manager.apply(setPoint(4.5));
      assert.equal(report?.limitA, 0);
      assert.equal(report?.requestedLimitA, 4.5);
    });
  });

  describe('reconnects, boots and sessions', () => {
    it('keeps a set-point for a charger that is offline and sends it when it connects', async () => {
      const { cp, clock, cs, manager } = await rig({ connect: false, manager: NO_OFFLINE_FALLBACK });
      const [report] = await manager.apply(setPoint(9));
      assert.equal(report?.outcome, 'deferred');
      assert.match(report?.error ?? '', /not connected/);
      const sent = sentCommand(cs, 'SetChargingProfile');
      await cp.connect();
      clock.advance(2000);
      const [event] = await sent;
      assert.equal(
        (
          event.request as {
            csChargingProfiles: { chargingSchedule: { chargingSchedulePeriod: { limit: number }[] } };
          }
        ).csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]?.limit,
        9,
      );
    });

    it('re-sends the limit after a reconnect, and after a reboot (BootNotification), learning the charger again', async () => {
      const { cp, clock, cs, manager, commands } = await rig({
        sim: { rebootDelayS: 5 },
        manager: NO_OFFLINE_FALLBACK,
      });
      await manager.apply(setPoint(11));
      await cp.disconnect();
      let before = commands.length;
      const resent = sentCommand(cs, 'SetChargingProfile');
      const checked = sentCommand(cs, 'GetCompositeSchedule');
      await cp.connect();
      clock.advance(1999);
      await cp.whenIdle();
      assert.deepEqual(profilesSent(commands, before), [], 'waits in case a boot follows');
      clock.advance(1);
      await resent;
      await checked;
      assert.equal(profilesSent(commands, before).length, 1);

      before = commands.length;
      const booted = nextMessage(cs, 'BootNotification');
      const relearned = sentCommand(cs, 'GetConfiguration');
      const afterBoot = sentCommand(cs, 'GetCompositeSchedule');
      const rebooting = waitFor(cp as unknown as NodeJS.EventEmitter, 'rebooting');
      await cs.call('CP1', 'Reset', { type: 'Soft' });
      await rebooting;
      await advance(cp, clock, 5000);
      await booted;
      // The re-send waits for a tick of the clock, so the boot's answer goes out first.
      clock.advance(0);
      await relearned;
      await afterBoot;
      assert.deepEqual(
        actionsSent(commands, before).filter((action) => action !== 'Reset'),
        ['GetConfiguration', 'SetChargingProfile', 'GetCompositeSchedule'],
      );
      clock.advance(5000);
      await cp.whenIdle();
      assert.equal(profilesSent(commands, before).length, 1, 'the boot took over from the reconnect');
    });

    it('clears the TxProfile when its session ends and carries the limit into the next session', async () => {
      const { cp, cs, clock, manager, commands } = await rig({ manager: NO_OFFLINE_FALLBACK });
      await manager.apply(setPoint(16));
      const transactionId = await startCharging(cp);
      const [during] = await manager.apply(setPoint(10));
      assert.equal(during?.method, 'TxProfile');
      const sentProfile = during?.request as { csChargingProfiles: { transactionId?: number } } | undefined;
      assert.equal(sentProfile?.csChargingProfiles.transactionId, transactionId);
      const before = commands.length;
      const cleared = sentCommand(cs, 'SetChargingProfile');
      await cp.stopTransaction(1);
      await cp.whenIdle();
      // The limit for the next session goes once the stop settled (a set-point meanwhile would replace it).
      clock.advance(1_000);
      await cleared;
      assert.deepEqual(actionsSent(commands, before), ['ClearChargingProfile', 'SetChargingProfile']);
      assert.deepEqual(commands[before]?.request, { id: 7301 });
      assert.equal(
        profilesSent(commands, before)[0]?.csChargingProfiles.chargingProfilePurpose,
        'TxDefaultProfile',
      );
      cp.unplug(1);
      await startCharging(cp);
      assert.equal(cp.connector(1).offeredA, 10);
      assert.deepEqual(
        cp.chargingProfiles.map((installed) => installed.profile.chargingProfileId),
        [7201],
        'one profile per purpose and connector, replaced, never piled up',
      );
    });

    it('limits a charger that applies TxDefaultProfile only from the next session with a TxProfile; the TxDefault-only preset is caught by verification and falls back to a TxProfile', async () => {
      const sim = { vendorBehaviour: { txDefaultFromNextSession: true } };
      const verification = { followDelayMs: 10_000, ignoreAfterMs: 20_000 };
      const safe = await rig({ sim, manager: { verification } });
      await safe.manager.apply(setPoint(16));
      await startCharging(safe.cp, 1, { maxCurrentA: 32 });
      const [report] = await safe.manager.apply(setPoint(10));
      assert.equal(report?.method, 'TxProfile');
      assert.equal(report?.verification.schedule, 'matches');
      assert.equal(safe.cp.connector(1).offeredA, 10);

      const naive = await rig({ identity: 'CP2', sim, manager: { strategy: 'txdefault', verification } });
      const cp2 = setPoint(16, { chargePointId: 'CP2' });
      await naive.manager.apply(cp2);
      await startCharging(naive.cp, 1, { maxCurrentA: 32 });
      naive.clock.advance(1000);
      // The charger accepts the TxDefaultProfile, but its composite schedule stays at 16 A: that is a
      // refusal in effect (it used to be reported as applied and left the car at 16 A), and the next
      // way, a TxProfile, goes out for the same set-point.
      const [caught] = await naive.manager.apply({ ...cp2, limitA: 10 });
      assert.equal(caught?.outcome, 'applied');
      assert.equal(caught?.method, 'TxProfile');
      assert.deepEqual(caught?.fallback, { from: 'TxDefaultProfile', to: 'TxProfile' });
      assert.equal(caught?.attempts[0]?.method, 'TxDefaultProfile');
      assert.equal(caught?.attempts[0]?.refused, true);
      assert.match(caught?.attempts[0]?.error ?? '', /composite schedule says 16 A/);
      assert.equal(caught?.verification.schedule, 'matches');
      assert.equal(naive.cp.connector(1).offeredA, 10);
      // The next decrease in the session goes as a TxProfile at once.
      const [next] = await naive.manager.apply({ ...cp2, limitA: 8 });
      assert.deepEqual(
        next?.attempts.map((attempt) => attempt.method),
        ['TxProfile'],
      );
      assert.equal(naive.cp.connector(1).offeredA, 8);
      await advance(naive.cp, naive.clock, 40_000, 10_000);
      const state = naive.manager.charger('CP2')?.connectors[0]?.verification;
      assert.equal(state?.ignoresLimit, false);
      assert.equal(state?.verified, true);
    });

    it('limits every connector with a set-point for connector 0: one TxDefaultProfile on connector 0 (3.13.1)', async () => {
      const { cp, manager, commands } = await rig({ sim: { connectors: 2 }, manager: NO_OFFLINE_FALLBACK });
      await startCharging(cp, 1);
      await startCharging(cp, 2);
      const [report] = await manager.apply(setPoint(9, { connectorId: 0 }));
      assert.equal(report?.method, 'TxDefaultProfile');
      assert.equal(report?.verification.schedule, 'notChecked', 'connector 0 would report the sum');
      const [sent] = profilesSent(commands);
      assert.equal(sent?.connectorId, 0);
      assert.equal(sent?.csChargingProfiles.chargingProfileId, 7200);
      assert.deepEqual([cp.connector(1).offeredA, cp.connector(2).offeredA], [9, 9]);
    });

    it('checks set-points from flows and names what is wrong', async () => {
      const { manager } = await rig();
      assert.throws(
        () => manager.apply({ ...setPoint(10), limitA: -1 }),
        /set-point: limitA must be a number of amperes from 0/,
      );
      assert.throws(
        () => manager.apply([setPoint(10), { ...setPoint(10), phases: 4 as 3 }]),
        /set-point \[1\]: phases must be 1, 2 or 3/,
      );
      assert.throws(() => manager.apply({ ...setPoint(10), chargePointId: '' }), SetPointError);
      assert.throws(() => manager.apply(null as never), /an object is needed/);
    });
  });
});
