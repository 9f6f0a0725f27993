import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from 'ws';
import type { RepliedMessage } from '../../../sim/charge-point';
import { until, waitFor } from '../../support/events';
import { type Handshake, TsOcppBackend } from '../../support/ts-ocpp-backend';
import { useUpstreamSite } from './support';

/**
 * The operator's backend of the upstream tests on another OCPP implementation: @voltbras/ts-ocpp's
 * CentralSystem (its own framing and its own copy of the OCPP 1.6 schemas), not ocpp-rpc. ampflow's
 * central system with an UpstreamProxy sits between the strict charge-point simulator and it, over
 * real WebSockets on 127.0.0.1; the proxy's reconnect timers run on a ManualClock.
 */
describe('upstream proxy: an operator’s backend on @voltbras/ts-ocpp', () => {
  const { backends, site, backendGot } = useUpstreamSite(() => new TsOcppBackend());

  it('gets the charger’s BootNotification through the proxy, with the charger’s identity and password', async () => {
    const { backend, cp } = await site(
      { password: 'cpo-secret-1' },
      new TsOcppBackend({ password: 'cpo-secret-1' }),
    );
    const booted = backendGot(backend, (c) => c.action === 'BootNotification');
    const boot = await cp.connect();
    const [call] = await booted;
    assert.equal(call.identity, 'CP1', 'the backend sees the charger as itself');
    assert.equal(typeof call.params.chargePointVendor, 'string');
    assert.equal(typeof call.params.chargePointModel, 'string');
    assert.equal(boot?.status, 'Accepted', 'the backend’s decision reaches the charger');
    assert.deepEqual(
      backend.handshakes.map((h) => [h.identity, h.password, h.refused]),
      [['CP1', 'cpo-secret-1', undefined]],
    );
    assert.ok(backend.clients.has('CP1'));
    assert.deepEqual(backend.badMessages, [], 'ts-ocpp’s schemas found nothing invalid');
    assert.deepEqual(backend.badAnswers, []);
  });

  it('refuses a proxy with the wrong password (HTTP 401) and records the handshake', async () => {
    const { backend, cp } = await site(
      { password: 'not-it' },
      new TsOcppBackend({ password: 'cpo-secret-1' }),
    );
    const refused = waitFor<[Handshake]>(backend, 'handshake');
    await cp.connect();
    const [handshake] = await refused;
    assert.deepEqual(handshake, { identity: 'CP1', password: 'not-it', refused: 'wrong password' });
    assert.equal(backend.clients.size, 0);
  });

  it('sends its commands to the charger and gets the charger’s very answers back', async () => {
    const { backend, cp } = await site();
    const booted = backendGot(backend, (c) => c.action === 'BootNotification');
    await cp.connect();
    await booted;
    const replies: RepliedMessage[] = [];
    cp.on('replied', (reply: RepliedMessage) => replies.push(reply));

    const configuration = (await backend.call('CP1', 'GetConfiguration', { key: ['HeartbeatInterval'] })) as {
      configurationKey: { key: string; value?: string }[];
    };
    const reply = replies.find((r) => r.action === 'GetConfiguration');
    assert.ok(reply, 'GetConfiguration reached the charger');
    assert.deepEqual(reply.request, { key: ['HeartbeatInterval'] });
    assert.deepEqual(configuration, reply.response, 'the charger’s answer, as it gave it');
    assert.deepEqual(
      configuration.configurationKey.map((k) => k.key),
      ['HeartbeatInterval'],
    );

    // TriggerMessage: the charger accepts, and the heartbeat it was asked for reaches the backend.
    const beat = backendGot(backend, (c) => c.action === 'Heartbeat');
    assert.deepEqual(await backend.call('CP1', 'TriggerMessage', { requestedMessage: 'Heartbeat' }), {
      status: 'Accepted',
    });
    assert.equal((await beat)[0].identity, 'CP1');

    // ts-ocpp checks the backend's own commands against its schemas before they go out.
    await assert.rejects(
      backend.call('CP1', 'TriggerMessage', { requestedMessage: 'Nonsense' }),
      /ValidationError|jsonschema/,
    );
    assert.equal(
      replies.filter((r) => r.action === 'TriggerMessage').length,
      1,
      'the invalid one never went',
    );
    assert.deepEqual(backend.badMessages, []);
  });

  it('is taken away and brought back on the same port: the proxy connects again and the backend’s commands reach the charger', async () => {
    const { backend, proxy, proxyClock, cp } = await site();
    const booted = backendGot(backend, (c) => c.action === 'BootNotification');
    await cp.connect();
    await booted;
    const url = backend.url;

    await backend.stop();
    await until(() => proxy.status()[0]?.state === 'connecting', [[proxy, 'link']], 5000);
    assert.equal(backend.clients.size, 0);
    await assert.rejects(backend.call('CP1', 'GetConfiguration', {}), /not connected/);

    await backend.start();
    assert.equal(backend.url, url, 'the same port');
    const back = waitFor<[string]>(backend, 'client');
    proxyClock.advance(60_000);
    assert.deepEqual(await back, ['CP1'], 'the proxy dialled the backend again');
    assert.deepEqual(
      backend.handshakes.map((h) => h.identity),
      ['CP1', 'CP1'],
    );
    const configuration = (await backend.call('CP1', 'GetConfiguration', { key: ['HeartbeatInterval'] })) as {
      configurationKey: { key: string }[];
    };
    assert.deepEqual(
      configuration.configurationKey.map((k) => k.key),
      ['HeartbeatInterval'],
    );
    assert.deepEqual(backend.badMessages, []);
  });

  it('answers as a test overrides it: a Rejected boot is what the charger gets', async () => {
    let rejected = 0;
    const backend = new TsOcppBackend().answer('BootNotification', (request, identity) => {
      assert.equal(identity, 'CP1');
      assert.equal(typeof request.chargePointModel, 'string');
      rejected++;
      return { status: 'Rejected', currentTime: new Date().toISOString(), interval: 600 };
    });
    const { cp } = await site({}, backend);
    const booted = backendGot(backend, (c) => c.action === 'BootNotification');
    const boot = await cp.connect();
    await booted;
    assert.equal(boot?.status, 'Rejected', 'the backend’s Rejected, passed to the charger');
    assert.ok(rejected >= 1);
    assert.equal(rejected, backend.of('BootNotification').length, 'every boot the backend got, rejected');
    assert.deepEqual(backend.badAnswers, [], 'a valid answer by ts-ocpp’s response schema');
  });

  it('answers late when a test says so (a StartTransaction answered once the test lets it)', async () => {
    const backend = new TsOcppBackend();
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    backend.answer('StartTransaction', async (_request, _identity, byDefault) => {
      await released;
      return byDefault();
    });
    const { cp } = await site({}, backend);
    const booted = backendGot(backend, (c) => c.action === 'BootNotification');
    await cp.connect();
    await booted;
    cp.plugIn(1, { maxCurrentA: 16 });
    const asked = backendGot(backend, (c) => c.action === 'StartTransaction');
    const started = cp.startTransaction(1, 'TAG-1');
    const [call] = await asked;
    assert.equal(call.params.idTag, 'TAG-1');
    assert.equal(cp.connector(1).transaction?.transactionId, undefined, 'no answer yet');
    release();
    await started;
    await cp.whenIdle();
    assert.equal(cp.connector(1).transaction?.transactionId, 7001, 'the backend’s id, once it answered');
    assert.deepEqual(backend.badMessages, []);
  });

  it('refuses a schema-invalid request (and an unparseable frame) and records it in badMessages', async () => {
    const backend = new TsOcppBackend();
    backends.push(backend);
    await backend.start();
    const socket = new WebSocket(backend.url.replace('{identity}', 'RAW1'), 'ocpp1.6');
    try {
      await once(socket, 'open');
      const answer = once(socket, 'message');
      const bad = waitFor<[string]>(backend, 'badMessage');
      // A BootNotification without its chargePointModel.
      socket.send(JSON.stringify([2, 'm1', 'BootNotification', { chargePointVendor: 'Acme' }]));
      const [data] = await answer;
      const [type, id, errorCode] = JSON.parse(String(data)) as [number, string, string];
      assert.deepEqual([type, id, errorCode], [4, 'm1', 'GenericError'], 'a CALLERROR');
      assert.match((await bad)[0], /^RAW1: BootNotification: \[ValidationError\] .*chargePointModel/);
      assert.equal(backend.calls.length, 0, 'never reached the backend’s handler');

      const unparseable = waitFor<[string]>(backend, 'badMessage');
      socket.send('{not json');
      assert.match((await unparseable)[0], /^RAW1: unparseable frame/);
      assert.equal(backend.badMessages.length, 2);
    } finally {
      const closed = once(socket, 'close');
      socket.close();
      await closed;
    }
  });

  it('fails a command whose charger goes away at once, and sends nothing for an answer that comes after its charger left', async () => {
    const backend = new TsOcppBackend({ callTimeoutMs: 60_000 });
    backends.push(backend);
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    backend.answer('Heartbeat', async (_request, _identity, byDefault) => {
      await released;
      return byDefault();
    });
    await backend.start();
    const socket = new WebSocket(backend.url.replace('{identity}', 'RAW2'), 'ocpp1.6');
    await once(socket, 'open');
    // The charger sends a heartbeat the backend answers late, and never answers the backend's command.
    const asked = backendGot(backend, (c) => c.action === 'Heartbeat');
    socket.send(JSON.stringify([2, 'h1', 'Heartbeat', {}]));
    await asked;
    const command = backend.call('RAW2', 'GetConfiguration', {});
    const gone = waitFor<[string]>(backend, 'disconnect');
    socket.close();
    await assert.rejects(command, /connection closed before the answer/, 'at once, not after 60 s');
    assert.deepEqual(await gone, ['RAW2']);
    assert.equal(backend.clients.size, 0);
    // The late answer finds no socket: ts-ocpp's send fails quietly (no unhandled rejection).
    release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(backend.badMessages, []);
  });
});
