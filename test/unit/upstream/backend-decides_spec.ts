import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { UpstreamEvent } from '../../../lib/contracts';
import type { BootNotificationResponse, SetChargingProfileRequest } from '../../../lib/ocpp/messages';
import { UpstreamProxy } from '../../../lib/upstream/proxy';
import { parseUpstreamSettings } from '../../../lib/upstream/settings';
import { type Listenable, until, waitFor } from '../../support/events';
import { controlLoop, supplyLine } from '../../support/peer-site';
import { PlainCharger } from '../../support/plain-charger';
import { TsOcppBackend } from '../../support/ts-ocpp-backend';
import type { CommandEvent, InteropChargePoint } from '../interop/support';
import { useUpstreamSite } from './support';

/**
 * The operator's backend decides, hears everything and is told the truth (issue #30), against a
 * backend written elsewhere: @voltbras/ts-ocpp's central system with its own framing and its own
 * strict schema checks (test/support/ts-ocpp-backend.ts), nothing of ocpp-rpc. The charger is the
 * project's strict simulator, which boots the moment it connects, as real chargers do.
 */

const TRANSACTION_MESSAGES = ['StartTransaction', 'MeterValues', 'StopTransaction'];

describe('upstream proxy: the backend decides and hears everything', () => {
  const { interop, backends, proxies, site, backendGot, connected, charging } = useUpstreamSite(
    () => new TsOcppBackend(),
  );

  /** The charger connects, charges in a transaction the backend started, and the backend goes away. */
  async function chargingThenOutage(backend: TsOcppBackend, proxy: UpstreamProxy, cp: InteropChargePoint) {
    await connected(backend, cp);
    await charging(cp);
    await backend.stop();
    await until(() => proxy.status()[0]?.state === 'connecting', [[proxy, 'link']], 5000);
  }

  for (const status of ['Rejected', 'Pending'] as const) {
    it(`gives a charger that boots as it connects the backend’s ${status}, and its interval`, async () => {
      const { backend, cp } = await site();
      backend.answer('BootNotification', () => ({
        status,
        currentTime: new Date().toISOString(),
        interval: 120,
      }));
      const booted = waitFor<[BootNotificationResponse]>(cp, 'boot');
      void cp.connect().catch(() => undefined);
      const [answer] = await booted;
      assert.equal(answer.status, status, 'the backend’s decision, not a local Accepted');
      assert.equal(answer.interval, 120);
      assert.equal(cp.registration, status);
      assert.equal(backend.of('BootNotification').length, 1);
      assert.ok(
        interop.harness().log.matching(new RegExp(`booted: ${status} by the operator's backend`)).length > 0,
        'ampflow records the backend’s decision',
      );
      assert.deepEqual(backend.badMessages, []);
    });
  }

  it('answers by its own policy only when the backend cannot decide in time, and says so in the log, to the flows and in the sidebar', async () => {
    const { backend, cs, proxyClock, cp } = await site({ decideWithinMs: 5000 });
    backend.answer('BootNotification', () => new Promise(() => undefined));
    const local = waitFor<[UpstreamEvent]>(cs, 'upstream', (e) => e.kind === 'decidedLocally');
    const booted = waitFor<[BootNotificationResponse]>(cp, 'boot');
    void cp.connect().catch(() => undefined);
    await backendGot(backend, (c) => c.action === 'BootNotification');
    proxyClock.advance(5000);
    const [event] = await local;
    assert.equal(event.action, 'BootNotification');
    assert.match(event.reason ?? '', /did not answer within 5 s: ampflow answered BootNotification/);
    assert.equal((await booted)[0].status, 'Accepted', 'the local policy (known charger) accepts it');
    assert.match(cs.backendLinkOf('CP1')?.decidedLocally ?? '', /^BootNotification at .*did not answer/);
    assert.ok(
      interop.harness().log.matching(/CP1: the backend did not answer within 5 s/, 'warn').length > 0,
    );
  });

  it('delivers the stop of a charger that left during an outage, once, and then closes its link', async () => {
    const { backend, proxy, proxyClock, cp } = await site();
    await chargingThenOutage(backend, proxy, cp);
    await cp.stopTransaction(1);
    await cp.whenIdle();
    await cp.close();
    assert.equal(proxy.status()[0]?.state, 'connecting', 'the link stays for what waits');

    await backend.start();
    const stopped = backendGot(backend, (c) => c.action === 'StopTransaction');
    proxyClock.advance(60_000);
    await stopped;
    await until(() => proxy.status()[0]?.state === 'closed', [[proxy, 'link']], 5000);
    assert.equal(backend.of('StopTransaction').length, 1);
    assert.equal(backend.of('StopTransaction')[0]?.params.transactionId, 7001, 'the backend’s id');
    assert.deepEqual(backend.badMessages, []);
  });

  it('opens a link for a charger whose messages wait, though it is not connected (a new proxy after a restart)', async () => {
    const { backend, cs, proxy, cp } = await site();
    await chargingThenOutage(backend, proxy, cp);
    await cp.stopTransaction(1);
    await cp.whenIdle();
    await cp.close();
    await proxy.close();

    await backend.start();
    const stopped = backendGot(backend, (c) => c.action === 'StopTransaction');
    const again = new UpstreamProxy(cs, parseUpstreamSettings({ url: backend.url }), {
      clock: new ManualClock(),
    });
    proxies.push(again);
    await stopped;
    await until(() => again.status()[0]?.state === 'closed', [[again, 'link']], 5000);
    assert.equal(backend.of('StopTransaction').length, 1);
    assert.deepEqual(cs.entriesOf('CP1', 'upstream'), {}, 'nothing waits any more');
  });

  it('shows a re-link as a re-link: no boot in the charger’s name, the transaction’s messages in the order they happened', async () => {
    const { backend, proxy, proxyClock, cp, clock } = await site();
    await chargingThenOutage(backend, proxy, cp);
    const before = backend.calls.length;
    clock.advance(10_000);
    await cp.whenIdle();
    clock.advance(10_000);
    await cp.whenIdle();
    await cp.stopTransaction(1);
    await cp.whenIdle();

    await backend.start();
    const stopped = backendGot(backend, (c) => c.action === 'StopTransaction');
    proxyClock.advance(60_000);
    await stopped;
    await until(() => proxy.status()[0]?.queued === 0, [[proxy, 'drained']], 5000);
    const after = backend.calls.slice(before);
    assert.equal(after.filter((c) => c.action === 'BootNotification').length, 0, 'no synthesised boot');
    const order = after.map((c) => c.action);
    const firstTx = order.findIndex((action) => TRANSACTION_MESSAGES.includes(action));
    assert.deepEqual(
      order.slice(firstTx).filter((action) => TRANSACTION_MESSAGES.includes(action)),
      ['MeterValues', 'MeterValues', 'StopTransaction'],
    );
    assert.ok(
      after
        .slice(0, firstTx)
        .every((c) => c.action !== 'StatusNotification' || c.params.status !== 'Available'),
      `no status newer than the queued messages goes before them: ${order.join(', ')}`,
    );
    assert.deepEqual(backend.badMessages, []);
  });

  it('passes the backend’s limit to a charger no load manager manages: the charger applies it and the backend gets its answer', async () => {
    const { backend, cp } = await site();
    await connected(backend, cp);
    const chargerId = await charging(cp);
    assert.ok(cp.connector(1).offeredA > 10, 'nothing limits it yet');
    const answer = await backend.call('CP1', 'SetChargingProfile', {
      connectorId: 1,
      csChargingProfiles: {
        chargingProfileId: 501,
        transactionId: chargerId,
        stackLevel: 3,
        chargingProfilePurpose: 'TxProfile',
        chargingProfileKind: 'Relative',
        chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] },
      },
    });
    assert.deepEqual(answer, { status: 'Accepted' }, 'the charger’s own answer');
    const composite = (await backend.call('CP1', 'GetCompositeSchedule', {
      connectorId: 1,
      duration: 600,
      chargingRateUnit: 'A',
    })) as { status: string; chargingSchedule?: { chargingSchedulePeriod: { limit: number }[] } };
    assert.equal(composite.status, 'Accepted');
    assert.equal(composite.chargingSchedule?.chargingSchedulePeriod[0]?.limit, 10, 'the charger applies it');
    await until(() => cp.connector(1).offeredA === 10, [[cp, 'replied']], 5000);
    assert.ok(
      interop.harness().log.matching(/CP1: no load manager manages this charger/, 'warn').length > 0,
      'said once in the log',
    );
    assert.deepEqual(backend.badMessages, []);
  });

  it('counts the limit the backend sends with RemoteStartTransaction: the car never gets more from its first limit on', async () => {
    const { backend, cs, cp, clock } = await site();
    const loop = controlLoop(cs, supplyLine(['CP1'], 40), undefined, { clock });
    const limits: number[] = [];
    cs.on('command', (event: CommandEvent) => {
      if (event.action !== 'SetChargingProfile' || event.error) return;
      const request = event.request as SetChargingProfileRequest;
      const profile = request.csChargingProfiles;
      if (request.connectorId === 1 && profile.chargingProfilePurpose === 'TxProfile')
        limits.push(profile.chargingSchedule.chargingSchedulePeriod[0]?.limit ?? Number.NaN);
    });
    try {
      await connected(backend, cp);
      cp.plugIn(1, { maxCurrentA: 32 });
      await cp.whenIdle();
      const started = backendGot(backend, (c) => c.action === 'StartTransaction');
      const answer = await backend.call('CP1', 'RemoteStartTransaction', {
        connectorId: 1,
        idTag: 'TAG-R',
        chargingProfile: {
          chargingProfileId: 601,
          stackLevel: 1,
          chargingProfilePurpose: 'TxProfile',
          chargingProfileKind: 'Relative',
          chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 8 }] },
        },
      });
      assert.deepEqual(answer, { status: 'Accepted' });
      await started;
      const changes: [Listenable, string][] = [[cp, 'replied']];
      await until(
        () => cp.connector(1).offeredA === 8,
        changes,
        8000,
        () => `offered ${cp.connector(1).offeredA} A; limits sent ${limits.join(', ')}`,
      );
      assert.ok(
        limits.length > 0 && limits.every((limit) => limit <= 8),
        `limits sent: ${limits.join(', ')}`,
      );
      assert.equal(cs.connectorOf('CP1', 1)?.operatorLimitA, 8);
      assert.match(loop.manager.setPoints()[0]?.reason ?? '', /the operator's backend allows 8 A/);
      const composite = await cs.call('CP1', 'GetCompositeSchedule', { connectorId: 1, duration: 600 });
      assert.equal(
        composite.chargingSchedule?.chargingSchedulePeriod[0]?.limit,
        8,
        'the charger’s own composite schedule',
      );
      assert.deepEqual(backend.badMessages, []);
    } finally {
      await loop.stop();
    }
  });

  it('gives a strict charger no profile for a transaction it does not know, with a backend that answers StartTransaction slowly: its car charges in every one of 5 sessions', async () => {
    const backend = new TsOcppBackend();
    backends.push(backend);
    await backend.start();
    backend.answer(
      'StartTransaction',
      (_request, _identity, byDefault) =>
        new Promise((resolve) => setTimeout(() => resolve(byDefault()), 150)),
    );
    const cs = await interop.harness().centralSystem();
    const proxy = new UpstreamProxy(cs, parseUpstreamSettings({ url: backend.url }), {
      log: interop.harness().log,
    });
    proxies.push(proxy);
    const loop = controlLoop(cs, supplyLine(['STRICT-1'], 32));
    const cp = new PlainCharger('STRICT-1', { strictTransactions: true });
    try {
      await cp.connect(`ws://127.0.0.1:${cs.port}${cs.pathPrefix}`);
      for (let session = 1; session <= 5; session++) {
        const outcome = await cp.startSession(1, `TAG-${session}`, { maxA: 16, phases: 3 });
        assert.equal(outcome.transactionId, 7000 + session, 'the backend’s transaction id');
        await until(
          () => (cp.drawA(1)[0] ?? 0) >= 16,
          [[cp, 'change']],
          8000,
          () => `session ${session}: ${cp.drawA(1).join('/')} A, offered ${cp.offeredA(1)} A`,
        );
        await cp.stopSession(1);
      }
      const refused = cp.answered.filter(
        (c) => c.action === 'SetChargingProfile' && (c.response as { status?: string }).status !== 'Accepted',
      );
      assert.deepEqual(refused, [], 'no profile the charger had to refuse');
      assert.deepEqual(cp.violations, []);
      assert.deepEqual(backend.badMessages, []);
    } finally {
      await cp.close();
      await loop.stop();
    }
  });
});
