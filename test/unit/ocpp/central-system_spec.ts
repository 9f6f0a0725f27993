import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { ManualClock } from '../../../lib/clock';
import { ConfigError } from '../../../lib/config-error';
import { CentralSystem, DEFAULT_OCPP_PORT } from '../../../lib/ocpp/central-system';
import { parseListener } from '../../../lib/ocpp/settings';
import { answer, rpcChargePoint } from '../../support/charge-point';
import { waitFor } from '../../support/events';
import { BOOT, callError, useOcppHarness } from '../../support/ocpp';

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

/** The HTTP status a WebSocket handshake is refused with. */
async function refusedWith(
  url: string,
  protocols: string[] = ['ocpp1.6'],
  headers: Record<string, string> = {},
) {
  const ws = new WebSocket(url, protocols, { headers });
  return await new Promise<number>((resolve, reject) => {
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`${url} was accepted`));
    });
    ws.once('error', () => undefined);
  });
}

describe('CentralSystem', () => {
  const harness = useOcppHarness();

  describe('listening socket', () => {
    it('listens, reports its URL, and releases the port on stop', async () => {
      const cs = new CentralSystem({ host: '127.0.0.1', port: 0 });
      const states: string[] = [];
      cs.on('state', (s: string) => states.push(s));
      await cs.start();
      const port = cs.port ?? 0;
      assert.equal(cs.url, `ws://127.0.0.1:${port}/`);
      assert.equal(await portIsFree(port), false);
      await cs.stop();
      assert.equal(cs.state, 'stopped');
      assert.equal(cs.url, undefined);
      assert.equal(await portIsFree(port), true);
      assert.deepEqual(states, ['starting', 'listening', 'stopping', 'stopped']);
    });

    it('closes chargers with 1001 on stop', async () => {
      const cs = await harness().centralSystem();
      const { client } = await harness().bootedCharger(cs, 'CP-1');
      const closed = waitFor<[{ code: number }]>(client, 'close');
      await cs.stop();
      assert.equal((await closed)[0].code, 1001);
      assert.deepEqual(cs.connectedChargePoints(), []);
    });

    it('drops a charger that does not answer the close frame once the grace period has passed', async () => {
      const clock = new ManualClock();
      const cs = await harness().centralSystem({ clock, closeGraceMs: 2000 });
      const connected = waitFor(cs, 'connect');
      const socket = await mutePeer(cs.port ?? 0, 'CP-MUTE');
      await connected;
      const dropped = waitFor(socket, 'close');
      let stopped = false;
      const stopping = cs.stop().then(() => {
        stopped = true;
      });
      await waitFor(socket, 'data'); // the close frame arrives; the peer ignores it
      clock.advance(1999);
      assert.equal(stopped, false);
      clock.advance(1);
      await stopping;
      await dropped;
    });

    it('stops cleanly when stop() comes while the port is still being bound', async () => {
      const cs = new CentralSystem({ host: '127.0.0.1', port: 0 });
      await Promise.all([cs.start(), cs.stop()]);
      assert.equal(cs.state, 'stopped');
    });

    it('answers a plain HTTP request with 426 and a hint', async () => {
      const cs = await harness().centralSystem();
      const response = await fetch(`http://127.0.0.1:${cs.port}/CP-1`);
      assert.equal(response.status, 426);
      assert.match(await response.text(), /OCPP 1\.6-J and 2\.0\.1 central system/);
    });

    it('fails with a message naming host and port when the port is taken, and can retry', async () => {
      const cs = await harness().centralSystem();
      const second = new CentralSystem({ host: '127.0.0.1', port: cs.port ?? 0 });
      await assert.rejects(second.start(), /cannot listen on 127\.0\.0\.1:\d+: the port is already in use/);
      assert.equal(second.state, 'failed');
      const port = cs.port;
      await cs.stop();
      await second.start();
      assert.equal(second.port, port);
      await second.stop();
    });

    it('refuses to start twice', async () => {
      const cs = await harness().centralSystem();
      await assert.rejects(cs.start(), /cannot start while listening/);
    });
  });

  describe('handshake', () => {
    it('takes the identity from the last path segment, URL-decoded, under any prefix', async () => {
      const cs = await harness().centralSystem();
      const identity = '+49*839*0000000001';
      const client = rpcChargePoint(`ws://127.0.0.1:${cs.port}/some/prefix`, identity);
      const connected = waitFor<[{ chargePointId: string; protocol: string }]>(cs, 'connect');
      await client.connect();
      const [info] = await connected;
      assert.equal(info.chargePointId, identity);
      assert.equal(info.protocol, 'ocpp1.6');
      assert.deepEqual(cs.connectedChargePoints(), [identity]);
      await client.close();
    });

    it('refuses unknown charge points with 404 when told to, and logs the refusal once', async () => {
      const cs = await harness().centralSystem({
        unknownChargePoints: 'reject',
        chargePoints: { 'CP-KNOWN': {} },
      });
      assert.equal(await refusedWith(`ws://127.0.0.1:${cs.port}/CP-STRANGER`), 404);
      assert.equal(
        harness().log.matching(/refused charge point "CP-STRANGER".*unknown charge point.*HTTP 404/).length,
        1,
      );
      const known = harness().charger(cs, 'CP-KNOWN');
      await known.connect();
    });

    it('answers an unknown charge point Pending until approved, then asks it to boot again', async () => {
      const cs = await harness().centralSystem({ unknownChargePoints: 'pending', pendingRetryIntervalS: 30 });
      const client = harness().charger(cs, 'CP-NEW');
      let triggered: unknown;
      answer(client, 'TriggerMessage', (params) => {
        triggered = params;
        return { status: 'Accepted' };
      });
      await client.connect();
      const boot = (await client.call('BootNotification', BOOT)) as { status: string; interval: number };
      assert.equal(boot.status, 'Pending');
      assert.equal(boot.interval, 30);
      // OCPP-J 1.6 errata 3.8: other calls before acceptance are answered with SecurityError.
      const refused = await callError(
        client.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' }),
      );
      assert.equal(refused.code, 'SecurityError');
      assert.equal(cs.chargePoint('CP-NEW')?.registration, 'Pending');

      const command = waitFor(cs, 'command');
      await cs.approveChargePoint('CP-NEW');
      await command;
      assert.deepEqual(triggered, { requestedMessage: 'BootNotification' });
      const again = (await client.call('BootNotification', BOOT)) as { status: string; interval: number };
      assert.equal(again.status, 'Accepted');
      assert.equal(again.interval, 300);
      await client.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    });

    it('refuses a rejected charge point at the handshake from then on', async () => {
      const cs = await harness().centralSystem();
      const { client } = await harness().bootedCharger(cs, 'CP-BAD');
      const closed = waitFor<[{ code: number }]>(client, 'close');
      await cs.rejectChargePoint('CP-BAD');
      assert.equal((await closed)[0].code, 1008);
      assert.equal(await refusedWith(`ws://127.0.0.1:${cs.port}/CP-BAD`), 404);
    });

    it('serves a charger that offers no sub-protocol as OCPP 1.6, with validation', async () => {
      const cs = await harness().centralSystem();
      const connected = waitFor<[{ protocol: string }]>(cs, 'connect');
      const client = harness().charger(cs, 'CP-NOPROTO', { protocols: [] });
      await client.connect();
      assert.equal((await connected)[0].protocol, '');
      const boot = (await client.call('BootNotification', BOOT)) as { status: string };
      assert.equal(boot.status, 'Accepted');
      const invalid = await callError(client.call('BootNotification', { chargePointVendor: 'x' }));
      assert.equal(invalid.code, 'OccurenceConstraintViolation');
    });

    it('refuses a charger that offers only other sub-protocols with 400', async () => {
      const cs = await harness().centralSystem();
      assert.equal(await refusedWith(`ws://127.0.0.1:${cs.port}/CP-21`, ['ocpp2.1']), 400);
      assert.equal(
        harness().log.matching(/offers sub-protocols ocpp2\.1; .* speaks ocpp1\.6, ocpp2\.0\.1/).length,
        1,
      );
      // A central system set to serve 1.6 only refuses a 2.0.1 charger the same way.
      const only16 = await harness().centralSystem({ protocols: ['ocpp1.6'] });
      assert.equal(await refusedWith(`ws://127.0.0.1:${only16.port}/CP-201`, ['ocpp2.0.1']), 400);
      assert.equal(
        harness().log.matching(/offers sub-protocols ocpp2\.0\.1; .* speaks ocpp1\.6(?!,)/).length,
        1,
      );
    });

    it('refuses a URL without an identity with 400', async () => {
      const cs = await harness().centralSystem();
      assert.equal(await refusedWith(`ws://127.0.0.1:${cs.port}/`), 400);
    });

    it('only serves chargers under its path prefix', async () => {
      const cs = await harness().centralSystem({ path: '/ocpp' });
      assert.equal(await refusedWith(`ws://127.0.0.1:${cs.port}/other/CP-1`), 404);
      const client = harness().charger(cs, 'CP-1');
      await client.connect();
      assert.deepEqual(cs.connectedChargePoints(), ['CP-1']);
    });

    it('shares an HTTP server with other WebSocket users, under its path', async () => {
      const server = createHttpServer();
      const other = new WebSocketServer({ noServer: true });
      server.on('upgrade', (request, socket, head) => {
        if (request.url === '/other') other.handleUpgrade(request, socket, head, (ws) => ws.send('hello'));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      try {
        const cs = await harness().centralSystem({ server, path: '/ocpp/' });
        const client = rpcChargePoint(`ws://127.0.0.1:${port}/ocpp`, 'CP-SHARED');
        await client.connect();
        assert.deepEqual(cs.connectedChargePoints(), ['CP-SHARED']);
        const ws = new WebSocket(`ws://127.0.0.1:${port}/other`);
        const [greeting] = await waitFor<[Buffer]>(ws, 'message');
        assert.equal(greeting.toString(), 'hello');
        ws.close();
        await client.close();
        await cs.stop();
        assert.equal(
          server.listeners('upgrade').length,
          1,
          'the central system removed its upgrade listener',
        );
      } finally {
        other.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });

  describe('on a shared server', () => {
    it('refuses settings that cannot work there, naming the setting', () => {
      const server = createHttpServer();
      assert.throws(
        () => new CentralSystem({ server, path: '/' }),
        /path: sharing a server needs a path of its own/,
      );
      assert.throws(
        () => new CentralSystem({ server, path: '/ocpp', securityProfile: 3 }),
        /securityProfile: security profile 3 \(client certificates\) needs a port of its own/,
      );
      assert.throws(
        () => new CentralSystem({ server, path: '/ocpp', securityProfile: 2 }),
        /securityProfile: security profile 2 on a shared server needs Node-RED to run on HTTPS/,
      );
    });
  });

  describe('a second connection with the same identity', () => {
    it('replaces the first one and keeps the charger and its transactions', async () => {
      const cs = await harness().centralSystem();
      const { client: first } = await harness().bootedCharger(cs, 'CP-TWICE');
      const start = (await first.call('StartTransaction', {
        connectorId: 1,
        idTag: 'TAG',
        meterStart: 0,
        timestamp: new Date().toISOString(),
      })) as { transactionId: number };
      const firstClosed = waitFor<[{ code: number; reason: string }]>(first, 'close');
      const second = harness().charger(cs, 'CP-TWICE');
      await second.connect();
      const [{ code, reason }] = await firstClosed;
      assert.equal(code, 1000);
      assert.match(reason, /Replaced/);
      assert.deepEqual(cs.connectedChargePoints(), ['CP-TWICE']);
      assert.equal(cs.chargePoint('CP-TWICE')?.connected, true);
      assert.equal(cs.openTransactions()[0]?.transactionId, start.transactionId);
      const stop = await second.call('StopTransaction', {
        transactionId: start.transactionId,
        meterStop: 100,
        timestamp: new Date().toISOString(),
      });
      assert.deepEqual(stop, {});
      assert.deepEqual(cs.openTransactions(), []);
    });
  });
});

describe('parseListener', () => {
  it('defaults to port 9000 on every interface', () => {
    assert.deepEqual(parseListener(undefined, undefined), { port: DEFAULT_OCPP_PORT });
    assert.deepEqual(parseListener('  ', ''), { port: 9000 });
  });

  it('accepts a port typed as text and a host', () => {
    assert.deepEqual(parseListener(' 10.0.0.5 ', ' 8180 '), {
      host: '10.0.0.5',
      port: 8180,
    });
  });

  for (const port of ['0', '65536', '90.5', 'abc', '-1', 9000.5]) {
    it(`refuses port ${JSON.stringify(port)} naming the field`, () => {
      assert.throws(
        () => parseListener(undefined, port),
        (err: unknown) =>
          err instanceof ConfigError && err.field === 'port' && /not a TCP port/.test(err.message),
      );
    });
  }

  it('refuses a host that is a URL', () => {
    assert.throws(() => parseListener('ws://10.0.0.5/', undefined), /host: .* is not a host name/);
  });
});
