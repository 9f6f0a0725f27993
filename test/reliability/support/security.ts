import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type SecureVersion, connect as tlsConnect } from 'node:tls';
import { WebSocket, type ClientOptions as WsClientOptions } from 'ws';

/** Options of a raw `ws` client: TLS material, headers, and the source address. */
export type ClientOptions = WsClientOptions & { localAddress?: string };

/** An HTTP Basic Authorization header, identity as the user (OCPP security whitepaper). */
export function basic(
  identity: string,
  password: string,
  user = identity,
): { headers: Record<string, string> } {
  return { headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } };
}

/** One WebSocket handshake: `status` is the HTTP status of a refusal, or 101 when it got in. */
export interface Attempt {
  status: Promise<number>;
  /** True once the server has answered (or the socket failed). */
  answered(): boolean;
}

/**
 * Starts a handshake and reports how the server answered it; an accepted socket is closed at
 * once. `status` rejects when the connection fails below HTTP (TLS refused, socket reset).
 */
export function attempt(url: string, options: ClientOptions = {}): Attempt {
  let done = false;
  const ws = new WebSocket(url, ['ocpp1.6'], options);
  const status = new Promise<number>((resolve, reject) => {
    ws.once('unexpected-response', (_request, response) => {
      done = true;
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      done = true;
      resolve(101);
      ws.close();
    });
    ws.once('error', (err) => {
      done = true;
      reject(err);
    });
  });
  status.catch(() => undefined); // handled by whoever awaits it; no unhandled-rejection noise
  return { status, answered: () => done };
}

export function handshakeStatus(url: string, options: ClientOptions = {}): Promise<number> {
  return attempt(url, options).status;
}

/** Lets pending I/O callbacks run (a socket's data, a timer of the system clock due now). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A TLS handshake offering exactly `version`: the version agreed, or the error code. */
export async function tlsProbe(
  port: number,
  version: SecureVersion,
  extra: { ca?: string; cert?: string; key?: string } = {},
): Promise<{ protocol?: string; error?: string }> {
  const socket = tlsConnect({
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    minVersion: version,
    maxVersion: version,
    // OpenSSL's default security level forbids TLS 1.0 and 1.1 in the client itself: level 0 lets
    // the client offer them, so that a refusal comes from the server.
    ciphers: 'DEFAULT:@SECLEVEL=0',
    rejectUnauthorized: false,
    ...extra,
  });
  try {
    await once(socket, 'secureConnect');
    return { protocol: socket.getProtocol() ?? undefined };
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  } finally {
    socket.destroy();
  }
}

/** A raw TCP connection, and when (ms after connecting) and how the server closed it. */
export interface RawConnection {
  socket: Socket;
  /** Everything the server sent. */
  received(): string;
  closed: Promise<{ afterMs: number }>;
}

export async function rawConnection(port: number, localAddress = '127.0.0.1'): Promise<RawConnection> {
  const socket = netConnect({ host: '127.0.0.1', port, localAddress });
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
  });
  socket.on('error', () => undefined); // a reset is one way of being closed
  await once(socket, 'connect');
  const start = performance.now();
  const closed = new Promise<{ afterMs: number }>((resolve) => {
    socket.once('close', () => resolve({ afterMs: performance.now() - start }));
  });
  return { socket, received: () => text, closed };
}

/**
 * `promise`, or a rejection naming `what` when it has not settled within `ms`: a step that hangs
 * fails with its own name instead of mocha's timeout for the whole test.
 */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The milliseconds `work` took. */
export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}
