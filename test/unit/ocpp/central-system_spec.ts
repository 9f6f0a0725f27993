import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { ManualClock } from '../../../lib/clock';
import { ConfigError } from '../../../lib/config-error';
import {
  CentralSystem,
  DEFAULT_OCPP_PORT,
  parseCentralSystemSettings,
} from '../../../lib/ocpp/central-system';
import { rpcChargePoint } from '../../support/charge-point';
import { waitFor } from '../../support/events';

/** A charger that completes the WebSocket handshake and then never answers anything, not even a close frame. */
async function mutePeer(port: number, identity: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.write(
    `GET /${identity} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n',
  );
  const [head] = await waitFor<[Buffer]>(socket, 'data');
  assert.match(head.toString(), /^HTTP\/1\.1 101/);
  return socket;
}

async function portIsFree(port: number): Promise<boolean> {
  const probe: Server = createServer();
  return await new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

describe('CentralSystem listening socket', () => {
  let cs: CentralSystem;

  beforeEach(() => {
    cs = new CentralSystem({ host: '127.0.0.1', port: 0 });
  });

  afterEach(async () => {
    await cs.stop();
  });

  it('listens, reports its URL, and releases the port on stop', async () => {
    const states: string[] = [];
    cs.on('state', (s: string) => states.push(s));
    await cs.start();
    const port = cs.port;
    assert.ok(port && port > 0);
    assert.equal(cs.url, `ws://127.0.0.1:${port}/`);
    assert.equal(await portIsFree(port), false);

    await cs.stop();
    assert.equal(cs.state, 'stopped');
    assert.equal(cs.url, undefined);
    assert.equal(await portIsFree(port), true);
    assert.deepEqual(states, ['starting', 'listening', 'stopping', 'stopped']);
  });

  it('accepts a charge point, knows its URL-decoded identity, and closes it with 1001 on stop', async () => {
    await cs.start();
    const identity = '+49*839*0000000001';
    const client = rpcChargePoint(`ws://127.0.0.1:${cs.port}/some/prefix`, identity);
    const connected = waitFor<[string]>(cs, 'connect');
    await client.connect();
    assert.deepEqual(await connected, [identity]);
    assert.deepEqual(cs.connectedChargePoints(), [identity]);

    const closed = waitFor<[{ code: number }]>(client, 'close');
    await cs.stop();
    const [{ code }] = await closed;
    assert.equal(code, 1001);
    assert.deepEqual(cs.connectedChargePoints(), []);
  });

  it('drops a charger that does not answer the close frame once the grace period has passed', async () => {
    const clock = new ManualClock();
    const mute = new CentralSystem({ host: '127.0.0.1', port: 0, clock, closeGraceMs: 2000 });
    await mute.start();
    const connected = waitFor(mute, 'connect');
    const socket = await mutePeer(mute.port ?? 0, 'CP-MUTE');
    await connected;
    const dropped = waitFor(socket, 'close');

    let stopped = false;
    const stopping = mute.stop().then(() => {
      stopped = true;
    });
    await waitFor(socket, 'data'); // the close frame arrives; the peer ignores it
    assert.equal(stopped, false);
    assert.equal(clock.pendingTimers, 1);
    clock.advance(1999);
    assert.equal(stopped, false);
    clock.advance(1);
    await stopping;
    await dropped;
    assert.equal(mute.state, 'stopped');
  });

  it('stops cleanly when stop() comes while the port is still being bound', async () => {
    const starting = cs.start();
    const stopping = cs.stop();
    await Promise.all([starting, stopping]);
    assert.equal(cs.state, 'stopped');
    assert.equal(cs.url, undefined);
  });

  it('forgets a charge point that disconnects', async () => {
    await cs.start();
    const client = rpcChargePoint(`ws://127.0.0.1:${cs.port}/ocpp`, 'CP-1');
    await client.connect();
    const gone = waitFor<[string]>(cs, 'disconnect');
    await client.close();
    assert.deepEqual(await gone, ['CP-1']);
    assert.deepEqual(cs.connectedChargePoints(), []);
  });

  it('answers a plain HTTP request with 426 and a hint instead of hanging', async () => {
    await cs.start();
    const response = await fetch(`http://127.0.0.1:${cs.port}/CP-1`);
    assert.equal(response.status, 426);
    assert.match(await response.text(), /OCPP 1\.6-J central system/);
  });

  it('fails with a message naming host and port when the port is taken, and can retry', async () => {
    await cs.start();
    const second = new CentralSystem({ host: '127.0.0.1', port: cs.port ?? 0 });
    await assert.rejects(second.start(), /cannot listen on 127\.0\.0\.1:\d+: the port is already in use/);
    assert.equal(second.state, 'failed');
    const port = cs.port;
    await cs.stop();
    await second.start();
    assert.equal(second.port, port);
    await second.stop();
  });

  it('can be stopped twice at once and restarted', async () => {
    await cs.start();
    await Promise.all([cs.stop(), cs.stop()]);
    await cs.start();
    assert.equal(cs.state, 'listening');
  });

  it('refuses to start twice', async () => {
    await cs.start();
    await assert.rejects(cs.start(), /cannot start while listening/);
  });
});

describe('parseCentralSystemSettings', () => {
  it('defaults to port 9000 on every interface', () => {
    assert.deepEqual(parseCentralSystemSettings({}), { port: DEFAULT_OCPP_PORT });
    assert.deepEqual(parseCentralSystemSettings({ host: '  ', port: '' }), { port: 9000 });
  });

  it('accepts a port typed as text and a host', () => {
    assert.deepEqual(parseCentralSystemSettings({ host: ' 10.0.0.5 ', port: ' 8180 ' }), {
      host: '10.0.0.5',
      port: 8180,
    });
  });

  for (const port of ['0', '65536', '90.5', 'abc', '-1', 9000.5]) {
    it(`refuses port ${JSON.stringify(port)} naming the field`, () => {
      assert.throws(
        () => parseCentralSystemSettings({ port }),
        (err: unknown) =>
          err instanceof ConfigError && err.field === 'port' && /not a TCP port/.test(err.message),
      );
    });
  }

  it('refuses a host that is a URL', () => {
    assert.throws(
      () => parseCentralSystemSettings({ host: 'ws://10.0.0.5/' }),
      /host: .* is not a host name/,
    );
  });
});
