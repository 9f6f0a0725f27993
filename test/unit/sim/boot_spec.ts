import assert from 'node:assert/strict';
import { waitFor } from '../../support/events';
import { advance, useSimulators } from './harness';

describe('SimulatedChargePoint: registration and connection', () => {
  const sims = useSimulators();

  it('boots, then reports connector 0 and every connector (errata 3.22) and appends the identity to the URL', async () => {
    const { cs, cp } = sims.simulator({
      identity: 'RDAM 123',
      connectors: 2,
      chargePointSerialNumber: 'SN-1',
    });
    const boot = await cp.connect();
    assert.equal(boot?.status, 'Accepted');
    assert.equal(cp.registration, 'Accepted');
    await cp.whenIdle();
    // OCPP-J 3.1.1: "<endpoint>/<percent-encoded identity>".
    assert.equal(cs.handshakes[0]?.identity, 'RDAM 123');
    assert.equal(cs.handshakes[0]?.request.url, '/ocpp/RDAM%20123');
    assert.deepEqual([...(cs.handshakes[0]?.protocols ?? [])], ['ocpp1.6']);
    assert.deepEqual(cs.messages('BootNotification'), [
      {
        chargePointVendor: 'ampflow',
        chargePointModel: 'SimCharger',
        chargePointSerialNumber: 'SN-1',
        firmwareVersion: '1.0.0',
      },
    ]);
    assert.deepEqual(
      cs.messages('StatusNotification').map((s) => [s.connectorId, s.status, s.errorCode]),
      [
        [0, 'Available', 'NoError'],
        [1, 'Available', 'NoError'],
        [2, 'Available', 'NoError'],
      ],
    );
    assert.deepEqual(
      cs.received.map((m) => m.action),
      ['BootNotification', 'StatusNotification', 'StatusNotification', 'StatusNotification'],
    );
    cs.assertStrict();
  });

  it('retries a Pending boot after its interval, answers the central system meanwhile, and sends nothing else (4.2)', async () => {
    const { cs, cp, clock } = sims.simulator();
    cs.answerBoots(['Pending'], 30);
    assert.equal((await cp.connect())?.status, 'Pending');
    // While Pending the central system may configure the charge point.
    const config = await cs.call('CP1', 'GetConfiguration', { key: ['HeartbeatInterval'] });
    assert.deepEqual(config.configurationKey, [{ key: 'HeartbeatInterval', readonly: false, value: '300' }]);
    // RemoteStart/RemoteStop are not allowed while Pending.
    assert.deepEqual(await cs.call('CP1', 'RemoteStartTransaction', { idTag: 'T1' }), { status: 'Rejected' });
    // No heartbeat, no status while Pending.
    await advance(cp, clock, 29_000);
    assert.deepEqual(
      cs.received.map((m) => m.action),
      ['BootNotification'],
    );
    const accepted = waitFor(cp, 'boot', (boot: { status: string }) => boot.status === 'Accepted');
    clock.advance(1000);
    await accepted;
    await cp.whenIdle();
    assert.deepEqual(
      cs.received.map((m) => m.action),
      ['BootNotification', 'BootNotification', 'StatusNotification', 'StatusNotification'],
    );
    // The Accepted interval becomes the heartbeat interval.
    assert.equal(cp.configuration.get('HeartbeatInterval'), '30');
    cs.assertStrict();
  });

  it('keeps quiet while Rejected, does not answer the central system, and retries after the interval', async () => {
    const { cs, cp, clock } = sims.simulator();
    cs.answerBoots(['Rejected'], 600);
    assert.equal((await cp.connect())?.status, 'Rejected');
    const client = await cs.connected('CP1');
    // "While Rejected, the Charge Point SHALL NOT respond to any Central System initiated message" (4.2).
    await assert.rejects(client.call('GetConfiguration', {}, { callTimeoutMs: 300 }), /timeout/i);
    await advance(cp, clock, 599_000);
    assert.equal(cs.messages('BootNotification').length, 1);
    const accepted = waitFor(cp, 'boot', (boot: { status: string }) => boot.status === 'Accepted');
    clock.advance(1000);
    await accepted;
    cs.assertStrict();
  });

  it('sends a Heartbeat after HeartbeatInterval without other traffic, and follows a changed interval', async () => {
    const { cs, cp, clock } = sims.simulator();
    cs.answerBoots([], 120);
    await cp.connect();
    await cp.whenIdle();
    await advance(cp, clock, 119_000);
    assert.equal(cs.messages('Heartbeat').length, 0);
    await advance(cp, clock, 1000);
    assert.equal(cs.messages('Heartbeat').length, 1);
    await advance(cp, clock, 360_000, 1000);
    assert.equal(cs.messages('Heartbeat').length, 4);

    assert.deepEqual(await cs.call('CP1', 'ChangeConfiguration', { key: 'HeartbeatInterval', value: '30' }), {
      status: 'Accepted',
    });
    await cp.whenIdle();
    await advance(cp, clock, 90_000, 1000);
    assert.equal(cs.messages('Heartbeat').length, 7);
    cs.assertStrict();
  });

  it('reconnects with backoff after the central system drops it, without a new BootNotification (OCPP-J 5.4)', async () => {
    const { cs, cp, clock } = sims.simulator({ reconnect: { initialDelayS: 2, factor: 2, maxDelayS: 60 } });
    await cp.connect();
    await cp.whenIdle();
    cp.plugIn(1, {});
    await cp.whenIdle();
    const delays: number[] = [];
    cp.on('reconnecting', ({ delayMs }) => delays.push(delayMs));
    const gone = waitFor(cp, 'disconnected');
    await cs.drop('CP1');
    await gone;
    cp.unplug(1); // a status change while offline
    assert.deepEqual(delays, [2000]);
    const back = waitFor(cp, 'connected');
    clock.advance(2000);
    await back;
    await cp.whenIdle();
    assert.equal(cs.messages('BootNotification').length, 1);
    // 4.9: only the status that changed while offline is reported.
    const statuses = cs.messages('StatusNotification').map((s) => `${s.connectorId}:${s.status}`);
    assert.deepEqual(statuses, ['0:Available', '1:Available', '1:Preparing', '1:Available']);
    cs.assertStrict();
  });

  it('keeps dialling with growing delays while the central system is away', async () => {
    const cs = sims.centralSystem();
    const port = cs.port;
    await cs.close();
    const { cp, clock } = sims.simulator({ reconnect: { initialDelayS: 1, factor: 2, maxDelayS: 4 } });
    const delays: number[] = [];
    cp.on('reconnecting', ({ delayMs }) => delays.push(delayMs));
    await assert.rejects(cp.connect(), /ECONNREFUSED/);
    for (const expected of [2000, 4000, 4000]) {
      const failed = waitFor(cp, 'connectFailed');
      clock.advance(delays[delays.length - 1] ?? 0);
      await failed;
      assert.equal(delays[delays.length - 1], expected);
    }
    assert.equal(cs.port, port);
  });

  it('sends the password with HTTP Basic (identity as user) and reconnects with a new AuthorizationKey (whitepaper A01)', async () => {
    const passwords: string[] = [];
    const cs = await sims.replaceCentralSystem({
      auth: (accept, _reject, handshake) => {
        passwords.push(handshake.password?.toString('utf8') ?? '');
        accept();
      },
    });
    const { cp, clock } = sims.simulator({ password: 'first-password-123' });
    await cp.connect();
    await cp.whenIdle();
    assert.match(String(cs.handshakes[0]?.headers.authorization), /^Basic /);
    const key = '0123456789abcdef0123456789abcdef01234567';
    assert.deepEqual(
      await cs.call('CP1', 'ChangeConfiguration', { key: 'AuthorizationKey', value: 'short' }),
      {
        status: 'Rejected',
      },
    );
    const reconnected = waitFor(cp, 'connected');
    assert.deepEqual(await cs.call('CP1', 'ChangeConfiguration', { key: 'AuthorizationKey', value: key }), {
      status: 'Accepted',
    });
    await waitFor(cp, 'disconnected');
    clock.advance(1000);
    await reconnected;
    await cp.whenIdle();
    assert.deepEqual(passwords, ['first-password-123', key]);
    // Write-only: reported without a value, and not in the full list.
    const report = await cs.call('CP1', 'GetConfiguration', { key: ['AuthorizationKey'] });
    assert.deepEqual(report.configurationKey, [{ key: 'AuthorizationKey', readonly: false }]);
    const all = await cs.call('CP1', 'GetConfiguration', {});
    assert.ok(!all.configurationKey?.some((k) => k.key === 'AuthorizationKey'));
    assert.equal(cs.messages('BootNotification').length, 1);
    cs.assertStrict();
  });

  it('stops reconnecting after disconnect() and comes back on connect() without rebooting', async () => {
    const { cs, cp, clock } = sims.simulator();
    await cp.connect();
    await cp.disconnect();
    assert.equal(cp.isOnline, false);
    clock.advance(120_000);
    assert.equal(cs.clients.size, 0);
    const boot = await cp.connect();
    assert.equal(boot?.status, 'Accepted');
    assert.equal(cs.messages('BootNotification').length, 1);
    assert.equal(cp.isOnline, true);
  });
});
