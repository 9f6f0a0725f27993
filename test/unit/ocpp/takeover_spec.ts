import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { ManualClock } from '../../../lib/clock';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { LIVENESS_TIMEOUT_MS } from '../../../lib/ocpp/liveness';
import { waitFor } from '../../support/events';
import { isoNow, useOcppHarness } from '../../support/ocpp';

/** The HTTP status of a handshake from `localAddress` (101: got in); an accepted socket stays open. */
function dial(url: string, localAddress: string): { status: Promise<number>; ws: WebSocket } {
  const ws = new WebSocket(url, ['ocpp1.6'], { localAddress });
  const status = new Promise<number>((resolve, reject) => {
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => resolve(101));
    ws.once('error', reject);
  });
  return { status, ws };
}

/**
 * A charger whose connection went half-open: the WebSocket handshake done by hand, then nothing
 * read or answered (no pong), as a charger that lost its link without closing the socket.
 */
async function halfOpen(port: number, identity: string): Promise<{ socket: Socket; pinged: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(
    [
      `GET /${identity} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Protocol: ocpp1.6',
      '',
      '',
    ].join('\r\n'),
  );
  let received = Buffer.alloc(0);
  let sawPing: () => void = () => undefined;
  const pinged = new Promise<void>((resolve) => {
    sawPing = resolve;
  });
  const upgraded = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      resolve();
      // A ping frame from the server: opcode 0x9, unmasked.
      if (received.subarray(end + 4).includes(0x89)) sawPing();
    });
  });
  await upgraded;
  assert.match(received.toString('latin1'), /^HTTP\/1\.1 101/);
  return { socket, pinged };
}

describe("a charger's place (a second connection of a live identity)", () => {
  const harness = useOcppHarness();
  let clock: ManualClock;
  let cs: CentralSystem;
  const url = (identity: string) => `ws://127.0.0.1:${cs.port}/${identity}`;

  beforeEach(async () => {
    clock = new ManualClock();
    cs = await harness().centralSystem({ clock });
  });

  it('refuses a connection from another address while the first still answers, naming both addresses', async () => {
    const { client: real } = await harness().bootedCharger(cs, 'CP-1');
    const start = (await real.call('StartTransaction', {
      connectorId: 1,
      idTag: 'TAG',
      meterStart: 0,
      timestamp: isoNow(),
    })) as { transactionId: number };

    const impostor = dial(url('CP-1'), '127.0.0.2');
    assert.equal(await impostor.status, 409);
    const [line] = harness().log.matching(/refused charge point "CP-1" from 127\.0\.0\.2/, 'warn');
    assert.match(
      line?.message ?? '',
      /already connected from 127\.0\.0\.1, which still answers; a second connection from 127\.0\.0\.2 is refused/,
    );
    // The real charger keeps its place and its transaction; it goes on as before.
    assert.equal(cs.chargePoint('CP-1')?.connected, true);
    assert.equal(cs.chargePoint('CP-1')?.remoteAddress, '127.0.0.1');
    assert.ok(((await real.call('Heartbeat', {})) as { currentTime?: string }).currentTime);
    assert.equal(cs.openTransactions()[0]?.transactionId, start.transactionId);
    assert.equal(harness().log.matching(/closing its previous connection/).length, 0);
  });

  it('lets the same identity in again from the same address at once (a charger that reconnects)', async () => {
    const { client: first } = await harness().bootedCharger(cs, 'CP-1');
    const firstClosed = waitFor<[{ code: number; reason: string }]>(first, 'close');
    const again = dial(url('CP-1'), '127.0.0.1');
    assert.equal(await again.status, 101);
    assert.match((await firstClosed)[0].reason, /Replaced/);
    assert.equal(
      harness().log.matching(/CP-1 connected again from 127\.0\.0\.1; closing its previous connection$/)
        .length,
      1,
    );
    again.ws.terminate();
  });

  it('replaces a half-open connection that does not answer a ping within 5 s', async () => {
    const connected = waitFor(cs, 'connect', (c: { chargePointId: string }) => c.chargePointId === 'CP-1');
    const stale = await halfOpen(cs.port as number, 'CP-1');
    await connected;
    const moved = dial(url('CP-1'), '127.0.0.2');
    await stale.pinged;
    clock.advance(LIVENESS_TIMEOUT_MS - 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(cs.chargePoint('CP-1')?.remoteAddress, '127.0.0.1', 'not replaced before the timeout');
    clock.advance(1);
    assert.equal(await moved.status, 101);
    assert.equal(cs.chargePoint('CP-1')?.remoteAddress, '127.0.0.2');
    assert.equal(
      harness().log.matching(
        /CP-1 connected again from 127\.0\.0\.2; closing its previous connection from 127\.0\.0\.1, which did not answer a ping/,
      ).length,
      1,
    );
    moved.ws.terminate();
    stale.socket.destroy();
  });
});
