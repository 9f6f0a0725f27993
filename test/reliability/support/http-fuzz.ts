import { connect } from 'node:net';
import type { Random } from './random';

/**
 * Raw HTTP/1.1 requests for the HTTP fuzz (fuzz-http_spec.ts): written byte by byte on a TCP
 * socket, so they can be what no HTTP client sends (broken escapes, overlong UTF-8, NUL, odd
 * methods, conflicting or huge headers, bodies that are slow or break off).
 */

/** Where a request goes: the chargers' own port, Node-RED's (HTTP nodes and admin API). */
export interface Target {
  port: number;
  /** The path before `ampflow-files/` of a files route, or the admin route's path. */
  kind: 'own-files' | 'own-other' | 'shared-files' | 'admin';
}

export interface FuzzRequest {
  index: number;
  target: Target['kind'];
  port: number;
  /** The bytes of the request, in pieces written one after another (a slow body has several). */
  pieces: Buffer[];
  /** The client stops after its pieces without the body it announced (a transfer broken off). */
  brokenOff: boolean;
  /** What it is, for a failure's message. */
  summary: string;
  /** A request the HTTP parser itself may refuse by closing (CONNECT, an upgrade). */
  mayClose: boolean;
  localAddress: string;
}

export type Outcome = { status: number } | { closed: true };

/** Sends `request` and resolves with its status, or closed when the connection ended without one. */
export function exchange(request: FuzzRequest, timeoutMs = 15000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: request.port, host: '127.0.0.1', localAddress: request.localAddress });
    let received = Buffer.alloc(0);
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      settled = true;
      socket.destroy();
      reject(new Error(`request ${request.index} (${request.summary}) got no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const head = received.toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3}) /.exec(head);
      if (match && head.includes('\r\n\r\n')) settle({ status: Number(match[1]) });
    });
    socket.on('error', () => settle({ closed: true }));
    socket.on('close', () => settle({ closed: true }));
    socket.once('connect', async () => {
      for (const [i, piece] of request.pieces.entries()) {
        if (settled || socket.destroyed) return;
        socket.write(piece);
        // A slow body: the next piece after the event loop has turned, so it arrives apart.
        if (i < request.pieces.length - 1) await new Promise((next) => setImmediate(next));
      }
      if (request.brokenOff && !settled) {
        // Let the bytes leave, then break off: the server sees the connection end mid-body.
        socket.end();
      }
    });
  });
}

/** The live links the fuzz aims at: upload and download tokens of each central system. */
export interface LiveLinks {
  own: { upload: string[]; download: string[] };
  shared: { upload: string[]; download: string[] };
}

/** Path segments that have broken many a decoder (the Buffers and `\t` only reach the HTTP parser). */
const NASTY_SEGMENTS: (string | Buffer)[] = [
  '%E0%A4%A',
  '%',
  '%%',
  '%zz',
  '%C0%AF',
  '%C0%AE%C0%AE%C0%AF',
  '%ED%A0%80',
  '%FF%FE%00',
  '%00',
  '..%2F..%2Fetc%2Fpasswd',
  '..',
  '.',
  '%2e%2e',
  'diag.log',
  'a b.log',
  'ä.log',
  '%F0%9F%94%8B.log',
  'x'.repeat(300),
  '?x=%E0%A4%A',
  '#frag',
];
/** Raw bytes in a path: overlong UTF-8, invalid UTF-8, NUL, a tab. */
const RAW_SEGMENTS: Buffer[] = [
  Buffer.from([0xc0, 0xaf]),
  Buffer.from([0xe0, 0x80, 0xaf]),
  Buffer.from([0xff, 0xfe]),
  Buffer.from([0x00]),
  Buffer.from('\t'),
];

const METHODS = [
  'GET',
  'GET',
  'HEAD',
  'PUT',
  'PUT',
  'POST',
  'POST',
  'DELETE',
  'OPTIONS',
  'PATCH',
  'PROPFIND',
  'M-SEARCH',
  'TRACE',
];
/** Methods the HTTP parser refuses or treats apart. */
const BAD_METHODS = ['get', 'PUT ', 'X'.repeat(40), 'CONNECT'];

const CONTENT_TYPES = [
  undefined,
  'application/octet-stream',
  'text/plain; charset=utf-8',
  'multipart/form-data; boundary=XyZ',
  'multipart/form-data; boundary=',
  'multipart/form-data; boundary="unterminated',
  'multipart/form-data',
  `multipart/form-data; boundary=${'b'.repeat(2000)}`,
  'application/json',
  'application/x-www-form-urlencoded',
  '\u00ff\u00fe',
];

function segmentBytes(segment: string | Buffer): Buffer {
  return typeof segment === 'string' ? Buffer.from(segment, 'latin1') : segment;
}

/** A multipart body as chargers send it, whole or broken in one of the ways parsers trip over. */
function multipartBody(random: Random, boundary: string): Buffer {
  const part = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${random.pick(['diag.tgz', '..\\..\\x', '%E0%A4%A', ''])}"\r\n\r\n${random.ascii(random.int(0, 200))}\r\n`;
  const whole = `${part}--${boundary}--\r\n`;
  switch (random.int(0, 4)) {
    case 0:
      return Buffer.from(whole);
    case 1:
      return Buffer.from(part); // no closing delimiter
    case 2:
      return Buffer.from(whole.replace('\r\n\r\n', '\r\n')); // headers never end
    case 3:
      return Buffer.from(`--${boundary}\r\n`); // a delimiter and nothing
    default:
      return random.bytes(random.int(0, 300));
  }
}

/**
 * The generator: request `index` of a seeded run, at one of the targets, with live links among the
 * tokens and each part of the request drawn from what breaks parsers and handlers.
 */
export function fuzzRequest(
  random: Random,
  index: number,
  targets: { ownPort: number; nodeRedPort: number; sharedCsId: string },
  live: LiveLinks,
  admin: { paths: { method: string; path: string }[]; token: string },
): FuzzRequest {
  const kind = random.pick([
    'own-files',
    'own-files',
    'own-other',
    'shared-files',
    'shared-files',
    'admin',
  ] as const);
  const port = kind.startsWith('own') ? targets.ownPort : targets.nodeRedPort;
  // A quarter of the requests break HTTP itself (the parser answers them); the rest are good HTTP
  // with nasty content, and reach the handlers.
  const atParser = random.chance(0.25);
  const fault = (probability: number) => atParser && random.chance(probability);
  let method = fault(0.2) ? random.pick(BAD_METHODS) : random.pick(METHODS);
  const segment = () => (fault(0.2) ? random.pick(RAW_SEGMENTS) : segmentBytes(random.pick(NASTY_SEGMENTS)));
  let path: Buffer;
  const headers: string[] = [];
  if (kind === 'admin') {
    const route = random.pick(admin.paths);
    if (random.chance(0.6)) method = route.method.toUpperCase();
    // Each parameter maybe replaced with something nasty (Express decodes it).
    const mangled = route.path.replace(/[^/]+/g, (part) =>
      random.chance(0.2) ? segment().toString('latin1') : part,
    );
    path = Buffer.from(
      mangled +
        (random.chance(0.3)
          ? `?from=${random.pick(['2026-01-01', 'garbage', '%E0%A4%A', '', '9'.repeat(30)])}&to=${random.pick(['', 'x', '2026-13-45'])}&decimal=${random.pick([',', '.', '%00'])}`
          : ''),
      'latin1',
    );
    const token = random.pick([admin.token, admin.token, admin.token, undefined, 'wrong', '\u00ff']);
    if (token !== undefined) headers.push(`Authorization: Bearer ${token}`);
    headers.push('Node-RED-API-Version: v1');
  } else {
    const links = kind === 'shared-files' ? live.shared : live.own;
    const prefix =
      kind === 'shared-files'
        ? random.chance(0.9)
          ? `/ampflow-central-system/${targets.sharedCsId}/`
          : `/ampflow-central-system/${random.pick(['nope', '%E0%A4%A', '..', ''])}/`
        : '/';
    const token = random.pick([
      ...links.upload,
      ...links.upload,
      ...links.download,
      random.ascii(32).replace(/[^A-Za-z0-9]/g, 'a'),
      '',
      '%E0%A4%A',
      '..',
    ]);
    if (kind === 'own-other') {
      path = Buffer.concat([Buffer.from('/', 'latin1'), segment()]);
    } else {
      const name = random.chance(0.7) ? segment() : Buffer.alloc(0);
      path = Buffer.concat([Buffer.from(`${prefix}ampflow-files/${token}/`, 'latin1'), name]);
    }
    if (links.upload.includes(token) && !atParser && random.chance(0.5))
      method = random.pick(['PUT', 'POST']);
  }
  const version = fault(0.2)
    ? random.pick(['HTTP/9.9', 'HTTX', ''])
    : random.pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0']);
  if (!fault(0.1)) headers.push(`Host: 127.0.0.1:${port}`);
  const contentType = random.pick(CONTENT_TYPES);
  if (contentType !== undefined) headers.push(`Content-Type: ${contentType}`);
  let body: Buffer;
  if (contentType?.startsWith('multipart/form-data; boundary=XyZ')) body = multipartBody(random, 'XyZ');
  else if (contentType === 'application/json' && random.chance(0.5))
    body = Buffer.from(
      JSON.stringify({
        id: random.ascii(5),
        imported: random.chance(0.5) ? random.ascii(40) : 7,
        stored: random.chance(0.5),
        files: random.chance(0.5) ? { a: 1 } : 'x',
      }),
    );
  else body = random.bytes(random.pick([0, 0, 1, 100, 3000, 70_000]));
  let brokenOff = false;
  const framing = random.int(0, 9);
  if (framing <= 5 || (framing === 7 && !atParser)) headers.push(`Content-Length: ${body.length}`);
  else if (framing === 6) {
    // More announced than sent: the body breaks off.
    headers.push(`Content-Length: ${body.length + random.int(1, 100_000)}`);
    brokenOff = true;
  } else if (framing === 7)
    headers.push(
      random.pick([
        'Content-Length: -1',
        'Content-Length: abc',
        `Content-Length: ${body.length}`,
        'Content-Length: 1, 2',
      ]),
      'Content-Length: 5',
    );
  else if (framing === 8) {
    headers.push('Transfer-Encoding: chunked');
    if (random.chance(0.5))
      body = Buffer.concat([
        Buffer.from(`${body.length.toString(16)}\r\n`),
        body,
        Buffer.from('\r\n0\r\n\r\n'),
      ]);
    else {
      // A chunk that never ends (or cannot be read): the client breaks off after it.
      body = Buffer.concat([Buffer.from(`${random.pick(['zz', 'fffffffff', '-1', ''])}\r\n`), body]);
      brokenOff = true;
    }
  }
  if (random.chance(0.05)) headers.push(`X-Fill: ${'a'.repeat(random.pick([9000, 20_000, 70_000]))}`);
  if (random.chance(0.05))
    headers.push(
      random.pick([
        'Upgrade: websocket',
        'Expect: 100-continue',
        'Connection: upgrade',
        'X-Forwarded-For: 10.0.0.1',
      ]),
    );
  if (fault(0.2)) headers.push(random.pick(['Bad Header: x', '\u0000: y', 'Host: other', 'X: \u0000']));
  if (random.chance(0.05)) headers.push('Content-Type: text/plain');
  const head = Buffer.concat([
    Buffer.from(`${method} `, 'latin1'),
    path,
    Buffer.from(` ${version}\r\n${headers.join('\r\n')}\r\n\r\n`, 'latin1'),
  ]);
  // Slow bodies come in pieces; a request broken off sends half of what it has.
  const sent = brokenOff ? body.subarray(0, Math.floor(body.length / 2)) : body;
  const pieces: Buffer[] = [head];
  const slices = random.chance(0.2) ? random.int(2, 8) : 1;
  for (let i = 0; i < slices; i++)
    pieces.push(
      sent.subarray(Math.floor((i * sent.length) / slices), Math.floor(((i + 1) * sent.length) / slices)),
    );
  const localAddress = random.chance(0.1) ? '127.0.0.2' : '127.0.0.1';
  return {
    index,
    target: kind,
    port,
    pieces: pieces.filter((piece) => piece.length > 0),
    brokenOff,
    mayClose:
      method.trim() === 'CONNECT' ||
      headers.some((header) => /^(Upgrade|Connection: upgrade|Expect)/i.test(header)) ||
      !['HTTP/1.1', 'HTTP/1.0'].includes(version) ||
      // A server refusing what it will not read (huge headers, a body past what it drains) may
      // close before the client has sent it all; the client then sees a reset, not the answer.
      head.length > 16 * 1024 ||
      sent.length > 64 * 1024 ||
      // Bytes after a request without Content-Length or Transfer-Encoding are no body (RFC 9112
      // 6.3) but a second request, a broken one: the server closes on it, and the reset may take
      // the first answer with it.
      (framing === 9 && sent.length > 0),
    summary: `${JSON.stringify(head.subarray(0, 200).toString('latin1'))} + ${sent.length} body bytes${brokenOff ? ', broken off' : ''}${slices > 1 ? `, in ${slices} pieces` : ''} from ${localAddress}`,
    localAddress,
  };
}
