import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import type { Logger } from '../../../lib/log';
import { ChargingProfileManager, type LimitReport, RETRY_BACKOFF_MS } from '../../../lib/profiles';
import { waitFor } from '../../support/events';
import { advance, type CommandEvent, nextMessage } from '../interop/support';
import { answerLate, holdAnswer } from './refusals';
import {
  actionsSent,
  installed,
  NO_OFFLINE_FALLBACK,
  offered,
  profilesSent,
  setPoint,
  settled,
  startCharging,
  useProfileRig,
} from './support';

/**
 * A load manager sends set-points only when they change: a limit the charger did not confirm (no
 * answer, a reboot, every way refused) is sent again by the manager itself, with backoff, until it
 * is; and a set-point always gets its answer. Each case failed before its fix (found by the review of
 * the profile manager).
 */

describe('Profiles: retries and answers', () => {
  const { rig } = useProfileRig();

  describe('what the charger did not confirm is sent again', () => {
    it('backs off 5 s, 10 s, 30 s, 60 s while a limit gets no answer, and stops once it is confirmed', async () => {
      assert.deepEqual(RETRY_BACKOFF_MS, [5000, 10_000, 30_000, 60_000]);
      const { cs, cp, clock, manager, commands } = await rig({
        manager: { callTimeoutMs: 200, ...NO_OFFLINE_FALLBACK },
      });
      answerLate({ cs, cp }, 'SetChargingProfile', 3);
      const [first] = await manager.apply(setPoint(11));
      assert.equal(first?.outcome, 'failed');
      assert.match(first?.error ?? '', /did not answer SetChargingProfile/);
      const sent = () => profilesSent(commands).length;
      await settled({ cp, manager });
      assert.equal(sent(), 1);
      for (const [waitMs, total] of [
        [5000, 2],
        [10_000, 3],
        [30_000, 4],
      ] as const) {
        clock.advance(waitMs - 1);
        await settled({ cp, manager });
        assert.equal(sent(), total - 1, `nothing before ${waitMs} ms`);
        clock.advance(1);
        await settled({ cp, manager });
        assert.equal(sent(), total, `sent again after ${waitMs} ms`);
      }
      assert.deepEqual(installed(cp), ['TxDefaultProfile@1:11']);
      assert.equal(manager.charger('CP1')?.connectors[0]?.confirmed, true);
      clock.advance(10 * 60_000);
      await settled({ cp, manager });
      assert.equal(sent(), 4, 'confirmed: no more');
    });

    it('sends again a re-send after a reconnect that got no answer', async () => {
      const { cs, cp, clock, manager, commands } = await rig({
        manager: { callTimeoutMs: 200, ...NO_OFFLINE_FALLBACK },
      });
      await manager.apply(setPoint(11));
      await cp.disconnect();
      answerLate({ cs, cp }, 'SetChargingProfile');
      const failed = waitFor<[LimitReport]>(manager, 'limit');
      await cp.connect();
      clock.advance(2000);
      const [report] = await failed;
      assert.equal(report.outcome, 'failed');
      assert.equal(report.resent, true);
      await settled({ cp, manager });
      const before = commands.length;
      clock.advance(5000);
      await settled({ cp, manager });
      // Before the fix nothing followed: the charger was left with whatever it had.
      assert.equal(profilesSent(commands, before).length, 1);
      assert.equal(manager.charger('CP1')?.connectors[0]?.confirmed, true);
    });

    it('learns a rebooted charger again when reading its keys got no answer, and sends its limit', async () => {
      const { cp, cs, clock, manager, commands } = await rig({
        sim: { rebootDelayS: 5 },
        manager: { callTimeoutMs: 200, ...NO_OFFLINE_FALLBACK },
      });
      await manager.apply(setPoint(11));
      answerLate({ cs, cp }, 'GetConfiguration');
      const rebooting = waitFor(cp as unknown as EventEmitter, 'rebooting');
      const booted = nextMessage(cs, 'BootNotification');
      await cs.call('CP1', 'Reset', { type: 'Soft' });
      await rebooting;
      await advance(cp, clock, 5000);
      await booted;
      const before = commands.length;
      const failed = waitFor<[CommandEvent]>(cs, 'command', (event) => event.action === 'GetConfiguration');
      clock.advance(0);
      assert.ok((await failed)[0].error, 'the first read gets no answer in time');
      await settled({ cp, manager });
      clock.advance(5000);
      await settled({ cp, manager });
      // Before the fix the failed read ended it: no limit after the reboot.
      assert.deepEqual(
        actionsSent(commands, before).filter((action) => action !== 'GetCompositeSchedule'),
        ['GetConfiguration', 'GetConfiguration', 'SetChargingProfile'],
      );
    });

    it('sends decreases first when several limits wait for one charger', async () => {
      const { cp, manager, commands } = await rig({
        sim: { connectors: 2 },
        manager: { increaseIntervalMs: 0 },
      });
      await manager.apply([setPoint(10), setPoint(10, { connectorId: 2 })]);
      // Keep the charger busy with one command while both set-points arrive.
      const answer = holdAnswer(cp, 'SetChargingProfile');
      const busy = manager.apply(setPoint(9, { connectorId: 2 }));
      await waitFor(cp as unknown as EventEmitter, 'received');
      const before = commands.length;
      const both = manager.apply([setPoint(16), setPoint(6, { connectorId: 2 })]);
      answer();
      await busy;
      await both;
      await settled({ cp, manager });
      const order = profilesSent(commands, before)
        .map(
          (request) =>
            `${request.connectorId}:${request.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]?.limit}`,
        )
        .filter((sent) => sent !== '2:9');
      // Before the fix: in the order they came, the increase first.
      assert.deepEqual(order, ['2:6', '1:16']);
    });

    it('stops on close: no retry, and a command answered afterwards reports to no one', async () => {
      const { cs, cp, clock, manager, commands } = await rig({
        manager: { callTimeoutMs: 200, ...NO_OFFLINE_FALLBACK },
      });
      answerLate({ cs, cp }, 'SetChargingProfile');
      await manager.apply(setPoint(11));
      // The answer to the next command comes in time, but after close.
      const answer = holdAnswer(cp, 'SetChargingProfile');
      const limits: LimitReport[] = [];
      manager.on('limit', (report: LimitReport) => limits.push(report));
      const received = waitFor(cp as unknown as EventEmitter, 'received');
      const pending = manager.apply(setPoint(10));
      await received;
      manager.close();
      answer();
      const [report] = await pending;
      assert.equal(report?.outcome, 'applied', 'the answer still tells the caller');
      // Before the fix the answer came out as a limit event after close.
      assert.deepEqual(limits, []);
      const before = commands.length;
      clock.advance(120_000);
      await cp.whenIdle();
      assert.deepEqual(actionsSent(commands, before), []);
    });
  });

  describe('every set-point gets its answer', () => {
    it('takes a stored record it cannot read as no record, with a warning, instead of hanging every set-point', async () => {
      const { cs, manager, log } = await rig();
      const firmware = cs.chargePoint('CP1')?.boot?.request.firmwareVersion;
      await cs.storeData('CP1', 'profiles', {
        version: 1,
        ...(firmware === undefined ? {} : { firmware }),
        strategy: 'default',
        memory: { worked: {}, refused: null },
        compositeUnsupported: false,
      });
      // Before the fix `refused: null` passed the check and the set-point never got an answer.
      const [report] = await manager.apply(setPoint(10));
      assert.equal(report?.outcome, 'applied');
      assert.equal(
        log.matching(/smart-charging facts in the record of CP1 are not readable/, 'warn').length,
        1,
      );
    });

    it('answers a set-point as failed when something throws after it was taken', async () => {
      const { cp, clock, manager, cs } = await rig({ sim: { vendorBehaviour: 'abb-terra-ac' } });
      await startCharging(cp);
      let broken = true;
      const log: Logger = {
        info: () => undefined,
        error: () => undefined,
        warn: (message) => {
          if (broken && /worked and is used from now on/.test(message)) {
            broken = false;
            throw new Error('the log is broken');
          }
        },
      };
      manager.close();
      const other = new ChargingProfileManager(cs, { clock, log });
      try {
        // Before the fix this never resolved.
        const [report] = await other.apply(setPoint(10));
        assert.equal(report?.outcome, 'failed');
        assert.match(report?.error ?? '', /the log is broken/);
        await settled({ cp, manager: other });
        // The limit was not confirmed: it goes again.
        clock.advance(5000);
        await settled({ cp, manager: other });
        assert.equal(other.charger('CP1')?.connectors[0]?.confirmed, true);
        assert.deepEqual(offered(cp, 1), [10]);
      } finally {
        other.close();
      }
    });

    it('writes what it learned again after a failed write', async () => {
      const { cp, cs, manager } = await rig({ sim: { vendorBehaviour: 'abb-terra-ac' } });
      await startCharging(cp);
      const writes: unknown[] = [];
      const keep = cs.storeData.bind(cs);
      cs.storeData = async (id, room, facts) => {
        writes.push(facts);
        // The second write (what worked, after the refused stack level) fails.
        if (writes.length === 2) throw new Error('disk full');
        return keep(id, room, facts);
      };
      await manager.apply(setPoint(10));
      await settled({ cp, manager });
      assert.equal(writes.length, 2);
      const [again] = await manager.apply(setPoint(9));
      assert.equal(again?.outcome, 'applied');
      // Before the fix the facts counted as stored after the failed write, and were not written again.
      assert.equal(writes.length, 3);
      assert.deepEqual(
        (cs.storedData('CP1', 'profiles') as { memory: unknown } | undefined)?.memory,
        manager.charger('CP1')?.memory,
      );
    });
  });
});
