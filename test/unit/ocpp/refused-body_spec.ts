import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { ManualClock } from '../../../lib/clock';
import { closeIfUnread } from '../../../lib/ocpp/file-guards';

/**
 * A refused request whose body is still coming (closeIfUnread): the answer must reach the client.
 * A socket closed with unread bytes is reset by the kernel, and a reset throws away what the
 * client has not read yet, the answer with it.
 */
describe("a refused request's body (closeIfUnread)", () => {
  let server: Server;
  let clock: ManualClock;
  let port: number;
  let arrived: Promise<IncomingMessage>;

  beforeEach(async () => {
    clock = new ManualClock();
    let take: (request: IncomingMessage) => void = () => {};
    arrived = new Promise((resolve) => {
      take = resolve;
    });
    server = createServer((request, response) => {
      take(request);
      closeIfUnread(request, response, clock);
      response.statusCode = 403;
      response.end('not for you\n');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A client that sends `head` and reads nothing until told: what it got, and how it ended. */
  async function client(head: string) {
    const socket = connect({ port, host: '127.0.0.1' });
    await once(socket, 'connect');
    socket.pause();
    const got: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => got.push(chunk));
    const ended = new Promise<string>((resolve) => {
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      socket.on('close', () => resolve('closed'));
    });
    socket.write(head);
    const request = await arrived;
    return {
      socket,
      request,
      server: request.socket as Socket,
      /** Reads what came, to the end. */
      async read() {
        socket.resume();
        const how = await ended;
        return { answer: Buffer.concat(got).toString('latin1'), ended: how };
      },
    };
  }

  const HEAD = 'PUT /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3000\r\n\r\n';

  it('the answer reaches a client that sends its body in pieces after it and reads late', async () => {
    const { socket, server, read } = await client(HEAD);
    const serverClosed = once(server, 'close');
    for (let i = 0; i < 8; i++) {
      await new Promise((next) => setImmediate(next));
      socket.write(Buffer.alloc(375, 1));
    }
    // The server closes once it has read the body (with Node's own close it had closed at once,
    // and the pieces after it made the kernel reset the connection).
    await serverClosed;
    const { answer, ended } = await read();
    assert.equal(ended, 'closed', 'closed, not reset');
    assert.match(answer, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(answer, /\r\nConnection: close\r\n/i);
    assert.match(answer, /not for you\n$/);
  });

  it('a client that stops sending its body is closed after 1 s of the clock, its answer read', async () => {
    const { socket, server, read } = await client(HEAD);
    socket.write(Buffer.alloc(100, 1));
    await once(server, 'finish');
    clock.advance(999);
    assert.equal(server.destroyed, false, 'still reading the body before 1 s');
    clock.advance(1);
    assert.equal(server.destroyed, true, 'closed after 1 s');
    assert.match((await read()).answer, /^HTTP\/1\.1 403 /);
  });

  it('a body past 64 KiB is not read to its end: the connection is closed', async () => {
    const { socket, server, request, read } = await client(
      'PUT /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10000000\r\n\r\n',
    );
    const serverClosed = once(server, 'close');
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    const piece = Buffer.alloc(16 * 1024, 1);
    for (let i = 0; i < 40 && !server.destroyed; i++) {
      if (!socket.write(piece)) await Promise.race([once(socket, 'drain'), serverClosed]);
    }
    await serverClosed;
    assert.ok(received > 64 * 1024 && received < 10_000_000, `read ${received} bytes, then closed`);
    assert.equal(request.complete, false);
    await read();
  });

  it('a request without a body is answered and closed at once, without waiting out the linger', async () => {
    const { server, read } = await client('GET /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    if (!server.destroyed) await once(server, 'close');
    const { answer, ended } = await read();
    assert.match(answer, /^HTTP\/1\.1 403 /);
    assert.equal(ended, 'closed');
  });
});
