import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { ChargePointMessage, UpstreamEvent } from '../../../lib/contracts';
import { subscribe } from '../../../lib/ocpp/events';
import { connectorRows } from '../../../lib/ocpp/listings';
import type { SetChargingProfileRequest } from '../../../lib/ocpp/messages';
import { METER_VALUES_ACK_MS, UpstreamProxy } from '../../../lib/upstream/proxy';
import { parseUpstreamSettings } from '../../../lib/upstream/settings';
import type { RepliedMessage } from '../../../sim/charge-point';
import { type Listenable, until, waitFor } from '../../support/events';
import { controlLoop, supplyLine } from '../../support/peer-site';
import { UpstreamBackend } from '../../support/upstream-backend';
import { allSessions, type CommandEvent, type InteropChargePoint, urlOf } from '../interop/support';
import { useUpstreamSite } from './support';

/**
 * Keep the operator's backend (issue #14): ampflow's central system between the strict charge-point
 * simulator and an operator's backend that is not ampflow (a bare ocpp-rpc server in strict mode),
 * over real WebSockets on 127.0.0.1. The proxy's reconnect timers run on a ManualClock.
 */

/** The chargingProfileIds of the backend's profiles in the composition test (stack levels 5, 6, 7). */
const BACKEND_PROFILE_IDS = [771, 772, 773];

describe('upstream proxy: keep the operator’s backend', () => {
  const { interop, proxies, site, backendGot, connected, charging } = useUpstreamSite(
    () => new UpstreamBackend(),
  );

  /** The charging session's meter values (10 s) reach the backend with its id 7001, then its stop. */
  async function meteredAndStopped(backend: UpstreamBackend, cp: InteropChargePoint, clock: ManualClock) {
    const metered = backendGot(backend, (c) => c.action === 'MeterValues' && c.params.transactionId === 7001);
    clock.advance(10_000);
    await metered;
    const stopped = backendGot(backend, (c) => c.action === 'StopTransaction');
    await cp.stopTransaction(1);
    await cp.whenIdle();
    return (await stopped)[0];
  }

  it('passes a whole session to the backend: the charger gets the backend’s transaction id, ampflow keeps its own ledger', async () => {
    const { backend, cs, cp, clock } = await site();
    const booted = backendGot(backend, (c) => c.action === 'BootNotification');
    await cp.connect();
    assert.equal((await booted)[0].identity, 'CP1', 'the backend sees the charger as itself');

    const chargerId = await charging(cp);
    assert.equal(chargerId, 7001, 'the backend’s transaction id');
    const [open] = cs.openTransactions();
    assert.ok(open && open.transactionId !== 7001, 'ampflow’s ledger keeps its own id');
    assert.equal(cs.connectorOf('CP1', 1)?.transaction?.transactionId, open?.transactionId);

    const stopped = await meteredAndStopped(backend, cp, clock);
    assert.equal(stopped.params.transactionId, 7001);
    const sessions = await allSessions(cs);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]?.transactionId, open?.transactionId);
    assert.deepEqual(
      backend.of('StartTransaction').map((c) => c.params.idTag),
      ['TAG-1'],
      'the start went upstream once',
    );
    assert.deepEqual(backend.badMessages, [], 'the strict backend found nothing invalid');
  });

  it('does not write a meter value or a status the backend gets at once (the storage is not worn per message)', async () => {
    const { backend, cs, cp, clock } = await site();
    // Which requests were written into the charger's record, in order (the central system's own journal).
    const written: string[] = [];
    const keepEntries = cs.keepEntries.bind(cs);
    cs.keepEntries = (id, room, change) => {
      for (const item of Object.values(change.put ?? {})) written.push((item as { action: string }).action);
      return keepEntries(id, room, change);
    };
    const statuses = backendGot(backend, (c) => c.action === 'StatusNotification');
    await cp.connect();
    await statuses;
    await charging(cp);
    await meteredAndStopped(backend, cp, clock);
    assert.ok(
      !written.includes('MeterValues'),
      `meter values that went at once are not written (${written})`,
    );
    assert.ok(
      !written.includes('StartTransaction') && !written.includes('StopTransaction'),
      `a start and a stop the backend decides are not queued: the charger waits for them (${written})`,
    );
    assert.ok(
      !written.includes('StatusNotification'),
      `statuses that went at once are not written (${written})`,
    );
    assert.deepEqual(cs.entriesOf('CP1', 'upstream'), {}, 'nothing is left once the backend has it all');
  });

  it('tells the flows what happens on the link (Upstream events), and the sidebar its state', async () => {
    const { backend, cs, proxy, cp } = await site({ smartCharging: 'refuse' });
    const events: UpstreamEvent[] = [];
    const unsubscribe = subscribe(cs, { actions: ['Upstream'] }, (event) =>
      events.push(event.payload as UpstreamEvent),
    );
    try {
      const up = waitFor<[UpstreamEvent]>(cs, 'upstream', (e) => e.kind === 'linkUp');
      await cp.connect();
      await up;
      assert.equal(cs.backendLinkOf('CP1')?.state, 'connected');
      await assert.rejects(backend.call('CP1', 'ClearChargingProfile', {}));
      const down = waitFor<[UpstreamEvent]>(cs, 'upstream', (e) => e.kind === 'linkDown');
      await backend.stop();
      await down;
      assert.deepEqual(
        proxy.status().map((link) => [link.chargePointId, link.state]),
        [['CP1', 'connecting']],
      );
      // The dashboard's rows (ListConnectors) carry the link of their charger.
      assert.ok(connectorRows(cs).length > 0);
      assert.deepEqual(
        connectorRows(cs).map((row) => [row.chargePointId, row.backend?.state]),
        cs
          .connectorsOf('CP1')
          .filter((c) => c.connectorId > 0)
          .map(() => ['CP1', 'not reached']),
      );
      assert.deepEqual(
        events.map((e) => [e.kind, e.action ?? '']),
        [
          ['linkUp', ''],
          ['refused', 'ClearChargingProfile'],
          ['linkDown', ''],
        ],
      );
    } finally {
      unsubscribe();
    }
  });

  it('passes the charger’s other messages: its DataTransfer decided by the backend, its heartbeats', async () => {
    const { backend, cs, cp, clock } = await site();
    await connected(backend, cp);
    assert.deepEqual(await cp.dataTransfer({ vendorId: 'com.example', messageId: 'hello', data: 'x' }), {
      status: 'Accepted',
      data: 'from the backend',
    });
    assert.deepEqual(backend.of('DataTransfer')[0]?.params, {
      vendorId: 'com.example',
      messageId: 'hello',
      data: 'x',
    });
    const beat = backendGot(backend, (c) => c.action === 'Heartbeat');
    clock.advance(300_000);
    await beat;
    assert.equal(cs.chargePoint('CP1')?.backend?.state, 'connected', 'the central system tells of the link');
    assert.deepEqual(backend.badMessages, []);
  });

  it('passes the backend’s commands to the charger with its ids, refuses what the settings refuse, keeps ampflow’s own commands working', async () => {
    const { backend, cs, cp } = await site({ smartCharging: 'refuse' });
    await connected(backend, cp);
    await charging(cp);

    const configuration = (await backend.call('CP1', 'GetConfiguration', { key: ['HeartbeatInterval'] })) as {
      configurationKey: { key: string }[];
    };
    assert.deepEqual(
      configuration.configurationKey.map((k) => k.key),
      ['HeartbeatInterval'],
    );
    // A key ampflow relies on is not the backend's to change; another one is.
    assert.deepEqual(
      await backend.call('CP1', 'ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '900' }),
      { status: 'Rejected' },
    );
    assert.deepEqual(
      await backend.call('CP1', 'ChangeConfiguration', { key: 'HeartbeatInterval', value: '120' }),
      {
        status: 'Accepted',
      },
    );
    // Smart charging from the backend, where the settings refuse it.
    await assert.rejects(
      backend.call('CP1', 'SetChargingProfile', {
        connectorId: 1,
        csChargingProfiles: {
          chargingProfileId: 99,
          stackLevel: 9,
          chargingProfilePurpose: 'TxDefaultProfile',
          chargingProfileKind: 'Relative',
          chargingSchedule: {
            chargingRateUnit: 'A',
            chargingSchedulePeriod: [{ startPeriod: 0, limit: 32 }],
          },
        },
      }),
      (err: Error & { rpcErrorCode?: string }) => err.rpcErrorCode === 'NotSupported',
    );

    // ampflow's own command speaks of the ledger's id; the charger knows the backend's.
    const [open] = cs.openTransactions();
    assert.deepEqual(
      await cs.call('CP1', 'RemoteStopTransaction', { transactionId: open?.transactionId as number }),
      { status: 'Accepted' },
    );
    await cp.whenIdle();
    assert.equal(cp.connector(1).transaction, undefined, 'the charger stopped its transaction');
    const stop = backend.of('StopTransaction')[0];
    assert.equal(stop?.params.transactionId, 7001);
    assert.equal(stop?.params.reason, 'Remote');
    assert.deepEqual(backend.badMessages, []);
  });

  it('keeps ampflow’s own central system as the backend just as well (ampflow-cs upstream of ampflow)', async () => {
    const harness = interop.harness();
    const upstreamCs = await harness.centralSystem();
    const cs = await harness.centralSystem();
    const proxy = new UpstreamProxy(cs, parseUpstreamSettings({ url: `${urlOf(upstreamCs)}{identity}` }), {
      clock: new ManualClock(),
    });
    proxies.push(proxy);
    const { cp } = interop.simulator(cs, 'CP1');
    const booted = waitFor<[ChargePointMessage]>(
      upstreamCs,
      'message',
      (m) => m.action === 'BootNotification',
    );
    await cp.connect();
    assert.equal((await booted)[0].chargePointId, 'CP1');
    const chargerId = await charging(cp);
    const [upstreamTx] = upstreamCs.openTransactions();
    assert.equal(chargerId, upstreamTx?.transactionId, 'the charger has the backend’s transaction id');
    // The backend stops it remotely, with its own id; ampflow's ledger closes its own.
    assert.deepEqual(await upstreamCs.call('CP1', 'RemoteStopTransaction', { transactionId: chargerId }), {
      status: 'Accepted',
    });
    await cp.whenIdle();
    await until(() => upstreamCs.openTransactions().length === 0, [[upstreamCs, 'session']], 5000);
    assert.equal(cs.openTransactions().length, 0);
    assert.equal((await allSessions(upstreamCs))[0]?.transactionId, chargerId);
    assert.equal((await allSessions(cs)).length, 1);
  });

  it('passes every command of the backend to the charger and the charger’s very answer back', async () => {
    const { backend, cp } = await site({ smartCharging: 'forward' });
    await connected(backend, cp);
    const replies: RepliedMessage[] = [];
    cp.on('replied', (reply: RepliedMessage) => replies.push(reply));
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    const commands: [string, Record<string, unknown>][] = [
      ['ChangeAvailability', { connectorId: 2, type: 'Inoperative' }],
      ['ChangeAvailability', { connectorId: 2, type: 'Operative' }],
      ['ClearCache', {}],
      ['DataTransfer', { vendorId: 'com.example', messageId: 'ping' }],
      ['GetConfiguration', { key: ['HeartbeatInterval'] }],
      ['GetLocalListVersion', {}],
      ['SendLocalList', { listVersion: 2, updateType: 'Full', localAuthorizationList: [] }],
      ['ReserveNow', { connectorId: 1, expiryDate: inAnHour, idTag: 'TAG-R', reservationId: 7 }],
      ['CancelReservation', { reservationId: 7 }],
      ['TriggerMessage', { requestedMessage: 'Heartbeat' }],
      ['UnlockConnector', { connectorId: 1 }],
      ['GetCompositeSchedule', { connectorId: 1, duration: 60 }],
      [
        'SetChargingProfile',
        {
          connectorId: 1,
          csChargingProfiles: {
            chargingProfileId: 55,
            stackLevel: 1,
            chargingProfilePurpose: 'TxDefaultProfile',
            chargingProfileKind: 'Relative',
            chargingSchedule: {
              chargingRateUnit: 'A',
              chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }],
            },
          },
        },
      ],
      ['ClearChargingProfile', { id: 55 }],
      ['RemoteStartTransaction', { connectorId: 1, idTag: 'TAG-REMOTE' }],
    ];
    for (const [action, request] of commands) {
      const answer = await backend.call('CP1', action, request);
      const reply = replies.find(
        (r) => r.action === action && JSON.stringify(r.request) === JSON.stringify(request),
      );
      assert.ok(reply, `${action} reached the charger as the backend sent it`);
      assert.deepEqual(answer, reply.response, `${action}: the charger's answer`);
    }
    assert.deepEqual(backend.badMessages, []);
  });

  it('lets ampflow and the backend send commands at the same instant, many times: every answer reaches its sender', async () => {
    const { backend, cs, cp } = await site();
    await connected(backend, cp);
    const keysOf = (answer: unknown) =>
      (answer as { configurationKey?: { key: string }[] }).configurationKey?.map((k) => k.key) ?? [];
    const rounds = await Promise.all(
      Array.from({ length: 40 }, () =>
        Promise.all([
          backend.call('CP1', 'GetConfiguration', { key: ['HeartbeatInterval'] }),
          cs.call('CP1', 'GetConfiguration', { key: ['MeterValueSampleInterval'] }),
        ]),
      ),
    );
    for (const [fromBackend, fromAmpflow] of rounds) {
      assert.deepEqual(keysOf(fromBackend), ['HeartbeatInterval']);
      assert.deepEqual(keysOf(fromAmpflow), ['MeterValueSampleInterval']);
    }
  });

  it('spells id tags as the backend wants them (case, byte order) and keeps the charger’s spelling in ampflow’s records', async () => {
    const { backend, cs, cp } = await site({ idTagCase: 'upper', idTagByteOrder: 'reversed' });
    await connected(backend, cp);
    await charging(cp, '04a2b3c4d5');
    assert.deepEqual(
      backend.calls
        .filter((c) => c.action === 'Authorize' || c.action === 'StartTransaction')
        .map((c) => c.params.idTag),
      ['D5C4B3A204', 'D5C4B3A204'],
    );
    assert.equal(cs.openTransactions()[0]?.idTag, '04a2b3c4d5');
  });

  it('lets the building decide for its own listed tags (staff cards) and tells the backend afterwards', async () => {
    const { backend, cs, cp } = await site({ localTags: 'listed' });
    await cs.idTags.upsert([{ idTag: 'STAFF-1', status: 'Accepted' }]);
    await connected(backend, cp);
    const started = backendGot(backend, (c) => c.action === 'StartTransaction');
    const chargerId = await charging(cp, 'STAFF-1');
    const [open] = cs.openTransactions();
    assert.equal(chargerId, open?.transactionId, 'ampflow answered: its own id');
    assert.equal(backend.of('Authorize').length, 0, 'the backend was not asked');
    assert.equal((await started)[0].params.idTag, 'STAFF-1', 'but it learns of the session');
  });

  it('composes the backend’s charging profiles with the load manager: the charger never gets more than either allows', async () => {
    const { backend, cs, cp, clock } = await site();
    // The profile manager on the simulator's clock: its schedules start at the charger's time.
    const loop = controlLoop(cs, supplyLine(['CP1'], 40), undefined, { clock });
    const commands: CommandEvent[] = [];
    cs.on('command', (event: CommandEvent) => {
      if (event.action === 'SetChargingProfile') commands.push(event);
    });
    try {
      const booted = backendGot(backend, (c) => c.action === 'BootNotification');
      await cp.connect();
      await booted;
      const chargerId = await charging(cp, 'TAG-1', 32);
      const offered = () => cp.connector(1).offeredA;
      const changes: [Listenable, string][] = [[cp, 'replied']];
      // The load manager alone: the connector's 32 A fit the 40 A line.
      await until(
        () => offered() === 32,
        changes,
        8000,
        () =>
          `offered ${offered()} A; set-points ${JSON.stringify(loop.manager.setPoints())} op ${cs.connectorOf('CP1', 1)?.operatorLimitA} feed ${loop.feedErrors.join()}`,
      );
      const txProfile = (limit: number, stackLevel = 5) => ({
        connectorId: 1,
        csChargingProfiles: {
          chargingProfileId: BACKEND_PROFILE_IDS[stackLevel - 5] as number,
          transactionId: chargerId,
          stackLevel,
          chargingProfilePurpose: 'TxProfile',
          chargingProfileKind: 'Relative',
          chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit }] },
        },
      });
      assert.deepEqual(await backend.call('CP1', 'SetChargingProfile', txProfile(10)), {
        status: 'Accepted',
      });
      assert.equal(cs.connectorOf('CP1', 1)?.operatorLimitA, 10);
      await until(
        () => offered() === 10,
        changes,
        8000,
        () =>
          `offered ${offered()} A; set-points ${JSON.stringify(loop.manager.setPoints())} op ${cs.connectorOf('CP1', 1)?.operatorLimitA}`,
      );
      assert.match(loop.manager.setPoints()[0]?.reason ?? '', /the operator's backend allows 10 A/);
      // None of the backend's profiles reached the charger: its stack holds ampflow's limits only.
      assert.ok(
        commands.every(
          (c) =>
            !BACKEND_PROFILE_IDS.includes(
              (c.request as SetChargingProfileRequest).csChargingProfiles.chargingProfileId,
            ),
        ),
        'the backend’s profile is kept by ampflow',
      );
      // The backend allows more than the load manager (a higher stack level prevails): 32 A, not 40.
      await backend.call('CP1', 'SetChargingProfile', txProfile(40, 6));
      assert.equal(cs.connectorOf('CP1', 1)?.operatorLimitA, 40);
      await until(
        () => offered() === 32,
        changes,
        8000,
        () => `offered ${offered()} A; sp ${JSON.stringify(loop.manager.setPoints())}`,
      );
      // The backend lowers again, then clears: what it allows, then the load manager's alone.
      await backend.call('CP1', 'SetChargingProfile', txProfile(8, 7));
      await until(
        () => offered() === 8,
        changes,
        8000,
        () =>
          `offered ${offered()} A; set-points ${JSON.stringify(loop.manager.setPoints())} op ${cs.connectorOf('CP1', 1)?.operatorLimitA}`,
      );
      assert.deepEqual(await backend.call('CP1', 'ClearChargingProfile', {}), { status: 'Accepted' });
      assert.equal(cs.connectorOf('CP1', 1)?.operatorLimitA, undefined);
      // A TxProfile for a transaction that does not run there is rejected, as a charger would.
      assert.deepEqual(await backend.call('CP1', 'SetChargingProfile', { ...txProfile(6), connectorId: 2 }), {
        status: 'Rejected',
      });
      assert.deepEqual(backend.badMessages, []);
    } finally {
      await loop.stop();
    }
  });

  it('lets the backend change a key ampflow relies on where the settings say so, and puts the charger’s value back', async () => {
    const { backend, cs, cp } = await site({ reassertKeys: 'MeterValueSampleInterval' });
    await connected(backend, cp);
    const told = waitFor<[UpstreamEvent]>(cs, 'upstream', (e) => e.kind === 'reasserted');
    assert.deepEqual(
      await backend.call('CP1', 'ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '900' }),
      { status: 'Accepted' },
      'the backend gets the charger’s own answer',
    );
    const [event] = await told;
    assert.match(event.reason ?? '', /backend set MeterValueSampleInterval=900; .* put 10 back \(Accepted\)/);
    const now = (await cs.call('CP1', 'GetConfiguration', { key: ['MeterValueSampleInterval'] })) as {
      configurationKey: { key: string; value?: string }[];
    };
    assert.equal(now.configurationKey[0]?.value, '10', 'the charger meters as ampflow needs');
    // Blocking compares keys as OCPP does (CiString: any letter case).
    assert.deepEqual(
      await backend.call('CP1', 'ChangeConfiguration', { key: 'clockalignedDATAinterval', value: '900' }),
      { status: 'Rejected' },
    );
    assert.deepEqual(backend.badMessages, []);
  });

  it('answers a transaction’s meter values within 50 ms though the backend hangs: written first, they go up when it answers', async () => {
    const { backend, cs, proxyClock, cp, clock } = await site({ decideWithinMs: 5000 });
    await connected(backend, cp);
    await charging(cp);
    backend.hang = (action) => action === 'MeterValues';
    const measuredBefore = cs.connectorOf('CP1', 1)?.measuredAt;
    const arrived = backendGot(backend, (c) => c.action === 'MeterValues');
    clock.advance(10_000);
    await arrived;
    assert.deepEqual(cs.entriesOf('CP1', 'upstream'), {}, 'not written while the backend may still take it');
    proxyClock.advance(METER_VALUES_ACK_MS);
    await cp.whenIdle();
    assert.deepEqual(
      Object.values(cs.entriesOf('CP1', 'upstream')).map((item) => (item as { action: string }).action),
      ['MeterValues'],
      'answered with the backend still silent: written before the charger’s answer',
    );
    assert.notEqual(cs.connectorOf('CP1', 1)?.measuredAt, measuredBefore, 'the load manager has the reading');
  });

  it('hangs up on a backend that stops answering, connects again and delivers what waited', async () => {
    const { backend, proxy, proxyClock, cp, clock } = await site({ callTimeoutMs: 5000 });
    await connected(backend, cp);
    await charging(cp);
    let hung = 0;
    backend.hang = (action) => action === 'MeterValues' && hung++ === 0;
    const first = backendGot(backend, (c) => c.action === 'MeterValues');
    clock.advance(10_000);
    const [sent] = await first;
    assert.equal(proxy.status()[0]?.state, 'open', 'within the call timeout the link stays');
    proxyClock.advance(5000);
    await until(() => proxy.status()[0]?.state === 'connecting', [[proxy, 'link']], 5000);
    const again = backendGot(backend, (c) => c.action === 'MeterValues');
    proxyClock.advance(60_000);
    const [delivered] = await again;
    assert.deepEqual(delivered.params, sent.params, 'the same meter value, once more after the reconnect');
    await until(() => proxy.status()[0]?.queued === 0, [[proxy, 'drained']], 5000);
    assert.equal(proxy.status()[0]?.state, 'open');
    assert.deepEqual(backend.badMessages, []);
  });

  it('keeps charging while the backend is away, then replays the session to it in order, once, with the backend’s id', async () => {
    const { backend, cs, proxy, proxyClock, cp, clock } = await site();
    await connected(backend, cp);
    await backend.stop();
    await until(() => proxy.status()[0]?.state === 'connecting', [[proxy, 'link']], 5000);

    const chargerId = await charging(cp);
    const [open] = cs.openTransactions();
    assert.equal(chargerId, open?.transactionId, 'ampflow answered with its own id; the car charges');
    clock.advance(10_000);
    await cp.whenIdle();
    await cp.stopTransaction(1);
    await cp.whenIdle();
    assert.ok((proxy.status()[0]?.queued ?? 0) >= 3, 'start, meter values and stop wait for the backend');

    await backend.start();
    const replayed = backendGot(backend, (c) => c.action === 'StopTransaction');
    proxyClock.advance(60_000);
    await replayed;
    await until(() => proxy.status()[0]?.queued === 0, [[proxy, 'drained']], 5000);
    const upstream = backend.calls.filter((c) =>
      ['StartTransaction', 'MeterValues', 'StopTransaction'].includes(c.action),
    );
    const actions = upstream.map((c) => c.action);
    assert.equal(actions[0], 'StartTransaction');
    assert.equal(actions[actions.length - 1], 'StopTransaction');
    assert.equal(actions.filter((a) => a === 'StartTransaction').length, 1, 'once');
    assert.ok(
      upstream.slice(1).every((c) => c.params.transactionId === 7001),
      `the backend’s id on every later message: ${JSON.stringify(upstream.map((c) => c.params.transactionId))}`,
    );
    assert.equal(
      backend.of('BootNotification').length,
      1,
      'a re-link is not a reboot: the backend accepted the boot, none goes in the charger’s name',
    );
    assert.equal(proxy.status()[0]?.queued, 0);
    assert.deepEqual(backend.badMessages, []);
  });
});
