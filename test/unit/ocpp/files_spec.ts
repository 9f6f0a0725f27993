import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../lib/clock';
import { MAX_SUMMARIZED_ADDRESSES, RefusalLog, TRANSFER_IDLE_MS } from '../../../lib/ocpp/file-guards';
import { FILE_TOKEN_TTL_MS, FileExchange, type FileUpload } from '../../../lib/ocpp/files';

/** A request from `localAddress` (another loopback address is another host to the server): its status and body. */
function sendFrom(
  localAddress: string,
  url: string,
  options: { method?: string; body?: string } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: options.method ?? 'GET', localAddress }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

/**
 * An upload that sends its headers and `first` of its declared `length` bytes, then nothing: resolves
 * once the server has read those bytes, with the client's answer (status, or 'closed') to come.
 */
async function stalledUpload(server: Server, url: string, first: string, length: number) {
  const arrived = new Promise<IncomingMessage>((resolve) =>
    server.once('request', (incoming: IncomingMessage) => incoming.once('data', () => resolve(incoming))),
  );
  const request = httpRequest(url, { method: 'PUT', headers: { 'Content-Length': String(length) } });
  const answer = new Promise<number | 'closed'>((resolve) => {
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', () => resolve('closed'));
    request.on('close', () => resolve('closed'));
  });
  request.write(first);
  return { answer, request, incoming: await arrived };
}

/**
 * The file exchange on a plain HTTP server, its tokens on a ManualClock; the chargers' connections
 * come from `addresses` (CP-1 from 127.0.0.1 unless a test moves it).
 */
async function served(maxUploadBytes?: number, directory?: string) {
  const clock = new ManualClock();
  const uploads: FileUpload[] = [];
  const warnings: string[] = [];
  const addresses = new Map<string, string | undefined>([['CP-1', '127.0.0.1']]);
  const files = new FileExchange({
    clock,
    log: { info() {}, warn: (text: string) => warnings.push(text), error() {} },
    ...(maxUploadBytes ? { maxUploadBytes } : {}),
    ...(directory ? { directory } : {}),
    chargerAddress: (id) => addresses.get(id),
    uploaded: (upload) => uploads.push(upload),
  });
  const server: Server = createServer((request, response) => {
    if (!files.handle('/ocpp/', request, response)) {
      response.statusCode = 426;
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ocpp/`;
  return {
    clock,
    files,
    uploads,
    warnings,
    addresses,
    server,
    base,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('file exchange (files.ts)', () => {
  it('a download link expires: 410 after its time, never served', async () => {
    const { clock, files, base, close } = await served();
    try {
      const token = files.offerFirmware(
        'CP-1',
        { content: Buffer.from('fw'), fileName: 'a.bin' },
        clock.now() + 60_000,
      );
      clock.advance(60_000);
      assert.equal((await fetch(base + files.pathOf(token))).status, 410);
    } finally {
      await close();
    }
  });

  it('a wrong token is 404 and logged with the address; another path is left to the server', async () => {
    const { clock, files, base, warnings, close } = await served();
    try {
      files.offerFirmware(
        'CP-1',
        { content: Buffer.from('fw'), fileName: 'a.bin' },
        clock.now() + FILE_TOKEN_TTL_MS,
      );
      assert.equal((await fetch(`${base}ampflow-files/guessed/a.bin`)).status, 404);
      assert.match(warnings[0] ?? '', /refused: unknown token/);
      assert.match(warnings[0] ?? '', /127\.0\.0\.1/);
      assert.equal((await fetch(`${base}CP-1`)).status, 426);
    } finally {
      await close();
    }
  });

  it('a download link takes no upload and an upload link serves no download (405); HEAD does not spend it', async () => {
    const { clock, files, base, close } = await served();
    try {
      const download = files.offerFirmware(
        'CP-1',
        { content: Buffer.from('fw'), fileName: 'a b.bin' },
        clock.now() + 1000,
      );
      const upload = files.expectUpload('CP-1', 'diagnostics', clock.now() + 1000);
      assert.equal((await fetch(base + files.pathOf(download), { method: 'PUT', body: 'x' })).status, 405);
      assert.equal((await fetch(base + files.pathOf(upload))).status, 405);
      assert.match(files.pathOf(download), /\/a%20b\.bin$/);
      assert.equal((await fetch(base + files.pathOf(download), { method: 'HEAD' })).status, 200);
      const body = await fetch(base + files.pathOf(download));
      assert.equal(await body.text(), 'fw');
    } finally {
      await close();
    }
  });

  it('a firmware file gone from the disk is 500 and the link stays good until it is back', async () => {
    const { clock, files, base, close } = await served();
    const directory = mkdtempSync(join(tmpdir(), 'ampflow-fw-'));
    try {
      const path = join(directory, 'fw.bin');
      writeFileSync(path, 'v2');
      const token = files.offerFirmware('CP-1', { path }, clock.now() + 60_000);
      rmSync(path);
      assert.equal((await fetch(base + files.pathOf(token))).status, 500);
      writeFileSync(path, 'v2');
      const served = await fetch(base + files.pathOf(token));
      assert.equal(served.status, 200);
      assert.equal(await served.text(), 'v2');
      assert.equal((await fetch(base + files.pathOf(token))).status, 410);
    } finally {
      await close();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('an upload over the limit is refused (413) and the link stays good; a file name cannot leave its folder', async () => {
    const { clock, files, uploads, base, close } = await served(1000);
    try {
      const token = files.expectUpload('CP-1', 'diagnostics', clock.now() + 1000);
      const big = await fetch(base + files.pathOf(token), {
        method: 'PUT',
        body: new Uint8Array(5000),
      }).catch(() => undefined);
      assert.ok(big === undefined || big.status === 413, String(big?.status));
      const ok = await fetch(`${base + files.pathOf(token)}..%2F..%2Fetc%2Fpasswd`, {
        method: 'PUT',
        body: 'diag',
      });
      assert.equal(ok.status, 201);
      assert.equal(uploads.length, 1);
      assert.doesNotMatch(uploads[0]?.fileName ?? '', /[/\\]|^\./);
      assert.equal(uploads[0]?.content?.toString(), 'diag');
    } finally {
      await close();
    }
  });

  it('two uploads of one charger in the same millisecond with the same name are both stored, apart', async () => {
    // CI's HTTP fuzz: two diagnostics requests answered at once, both named by the clock; the
    // second was refused with EEXIST (500, an error in the log) and its file lost.
    const directory = mkdtempSync(join(tmpdir(), 'ampflow-files-'));
    const { clock, files, uploads, base, close } = await served(undefined, directory);
    try {
      const first = files.expectUpload('CP-1', 'diagnostics', clock.now() + 1000);
      const second = files.expectUpload('CP-1', 'diagnostics', clock.now() + 1000);
      for (const [token, body] of [
        [first, 'one'],
        [second, 'two'],
      ] as const) {
        const answer = await fetch(base + files.pathOf(token), { method: 'PUT', body });
        assert.equal(answer.status, 201);
      }
      assert.equal(uploads[0]?.fileName, uploads[1]?.fileName);
      assert.notEqual(uploads[0]?.path, uploads[1]?.path);
      assert.deepEqual(
        uploads.map((upload) => readFileSync(upload.path ?? '', 'utf8')),
        ['one', 'two'],
      );
    } finally {
      await close();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('a broken percent escape in an upload name is 400 and logged, and the link stays good', async () => {
    const { clock, files, uploads, base, warnings, close } = await served();
    try {
      const token = files.expectUpload('CP-1', 'diagnostics', clock.now() + 1000);
      const broken = await fetch(`${base + files.pathOf(token)}%E0%A4%A`, { method: 'PUT', body: 'diag' });
      assert.equal(broken.status, 400);
      assert.match(warnings.at(-1) ?? '', /CP-1 from 127\.0\.0\.1 refused: .*percent-encoding/);
      const ok = await fetch(`${base + files.pathOf(token)}diag.log`, { method: 'PUT', body: 'diag' });
      assert.equal(ok.status, 201);
      assert.equal(uploads[0]?.fileName, 'diag.log');
    } finally {
      await close();
    }
  });

  it("a link answers only the charger's address: 403 from another, logged naming both, and the link stays good for the charger", async () => {
    const { clock, files, uploads, warnings, addresses, base, close } = await served();
    try {
      const upload = files.expectUpload('CP-1', 'diagnostics', clock.now() + 60_000);
      const download = files.offerFirmware(
        'CP-1',
        { content: Buffer.from('fw'), fileName: 'a.bin' },
        clock.now() + 60_000,
      );
      const stranger = await sendFrom('127.0.0.2', `${base + files.pathOf(upload)}x.log`, {
        method: 'PUT',
        body: 'forged',
      });
      assert.equal(stranger.status, 403);
      assert.equal((await sendFrom('127.0.0.2', base + files.pathOf(download))).status, 403);
      assert.match(
        warnings[0] ?? '',
        /diagnostics link of CP-1 used from 127\.0\.0\.2 refused \(403\).*127\.0\.0\.1/,
      );
      assert.equal(uploads.length, 0);
      // The charger's own requests work, upload and download.
      const own = await sendFrom('127.0.0.1', `${base + files.pathOf(upload)}diag.log`, {
        method: 'PUT',
        body: 'real',
      });
      assert.equal(own.status, 201);
      assert.equal(uploads[0]?.content?.toString(), 'real');
      // The charger reconnected from a new address: the link follows its connection.
      addresses.set('CP-1', '::ffff:127.0.0.2');
      assert.equal((await sendFrom('127.0.0.1', base + files.pathOf(download))).status, 403);
      const moved = await sendFrom('127.0.0.2', base + files.pathOf(download));
      assert.deepEqual(moved, { status: 200, text: 'fw' });
    } finally {
      await close();
    }
  });

  it('a link made while the charger was connected answers its address after it went offline', async () => {
    const { clock, files, addresses, base, close } = await served();
    try {
      const token = files.offerFirmware(
        'CP-1',
        { content: Buffer.from('fw'), fileName: 'a.bin' },
        clock.now() + 1000,
      );
      addresses.set('CP-1', undefined);
      assert.equal((await sendFrom('127.0.0.2', base + files.pathOf(token))).status, 403);
      assert.equal((await sendFrom('127.0.0.1', base + files.pathOf(token))).status, 200);
    } finally {
      await close();
    }
  });

  it(`a stalled upload is cut after ${TRANSFER_IDLE_MS / 1000} s without a byte (408) and the charger's retry is stored, not 409`, async () => {
    const { clock, files, uploads, warnings, server, base, close } = await served();
    try {
      const token = files.expectUpload('CP-1', 'diagnostics', clock.now() + FILE_TOKEN_TTL_MS);
      const url = `${base + files.pathOf(token)}diag.log`;
      const stalled = await stalledUpload(server, url, 'half of', 1000);
      stalled.request.on('error', () => undefined);
      // While it runs, a second transfer is refused.
      assert.equal((await sendFrom('127.0.0.1', url, { method: 'PUT', body: 'x' })).status, 409);
      clock.advance(TRANSFER_IDLE_MS - 1);
      assert.equal((await sendFrom('127.0.0.1', url, { method: 'PUT', body: 'x' })).status, 409);
      clock.advance(1);
      assert.ok([408, 'closed'].includes(await stalled.answer), 'the stalled upload is answered or cut');
      assert.match(
        warnings.at(-1) ?? '',
        /diagnostics upload of CP-1 from 127\.0\.0\.1: no byte for 60 s after 7; cut/,
      );
      const retry = await sendFrom('127.0.0.1', url, { method: 'PUT', body: 'whole' });
      assert.equal(retry.status, 201);
      assert.deepEqual(
        uploads.map((upload) => upload.content?.toString()),
        ['whole'],
      );
    } finally {
      await close();
    }
  });

  it(`a download the charger stops taking is cut within ${(TRANSFER_IDLE_MS * 5) / 4 / 1000} s and the link is free for its retry`, async () => {
    const { clock, files, warnings, server, base, close } = await served();
    const content = Buffer.alloc(16 * 1024 * 1024, 7);
    const token = files.offerFirmware(
      'CP-1',
      { content, fileName: 'big.bin' },
      clock.now() + FILE_TOKEN_TTL_MS,
    );
    const url = new URL(base + files.pathOf(token));
    // A charger that asks and then reads nothing: the kernel's buffers fill, the rest waits.
    const socket = connect(Number(url.port), '127.0.0.1');
    socket.pause();
    socket.on('error', () => undefined);
    const closed = once(socket, 'close');
    const answering = once(server, 'request');
    socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
    try {
      await answering;
      assert.equal((await fetch(url)).status, 409, 'the download is running');
      const cutLine = /firmware big\.bin for CP-1: 127\.0\.0\.1 took nothing for 60 s; cut/;
      const startedAt = clock.now();
      // The checks fall due every 15 s; between them the event loop turns, so whatever the socket
      // still takes is seen as progress (it is: the cut waits for it).
      while (
        !warnings.some((line) => cutLine.test(line)) &&
        clock.now() - startedAt < 10 * TRANSFER_IDLE_MS
      ) {
        clock.advance(TRANSFER_IDLE_MS / 4);
        await new Promise((next) => setImmediate(next));
      }
      assert.ok(
        warnings.some((line) => cutLine.test(line)),
        warnings.join('\n'),
      );
      // Once the buffers stop moving, within the idle time and one check.
      assert.ok(clock.now() - startedAt <= 3 * TRANSFER_IDLE_MS, `cut after ${clock.now() - startedAt} ms`);
      socket.resume();
      await closed;
      const retry = await fetch(url);
      assert.equal(retry.status, 200);
      assert.equal(Buffer.from(await retry.arrayBuffer()).length, content.length);
    } finally {
      socket.destroy();
      await close();
    }
  });

  it('an upload that keeps coming, however slowly, is not cut', async () => {
    const { clock, files, uploads, server, base, close } = await served();
    const slow = await stalledUpload(
      server,
      `${base}ampflow-files/${files.expectUpload('CP-1', 'diagnostics', clock.now() + FILE_TOKEN_TTL_MS)}/s.log`,
      'a',
      3,
    );
    try {
      for (const byte of ['b', 'c']) {
        clock.advance(TRANSFER_IDLE_MS - 1000);
        const arrived = once(slow.incoming, 'data');
        slow.request.write(byte);
        await arrived;
      }
      slow.request.end();
      assert.equal(await slow.answer, 201);
      assert.equal(uploads[0]?.content?.toString(), 'abc');
    } finally {
      slow.request.destroy();
      await close();
    }
  });

  it('wrong tokens from one address write one line, then one summary a minute; still 404 and 410', async () => {
    const { clock, files, warnings, base, close } = await served();
    try {
      const token = files.offerFirmware(
        'CP-1',
        { content: Buffer.from('fw'), fileName: 'a.bin' },
        clock.now() + 1000,
      );
      assert.equal((await fetch(base + files.pathOf(token))).status, 200);
      for (let i = 0; i < 30; i++)
        assert.equal((await fetch(`${base}ampflow-files/guess-${i}/a.bin`)).status, 404);
      for (let i = 0; i < 5; i++) assert.equal((await fetch(base + files.pathOf(token))).status, 410);
      assert.deepEqual(warnings, ['file request GET from 127.0.0.1 refused: unknown token']);
      clock.advance(60_000);
      assert.deepEqual(warnings.slice(1), [
        '34 more file requests from 127.0.0.1 refused in the last minute (29 unknown token, 5 used or expired token)',
      ]);
      // A quiet minute: the address is forgotten, its next refusal is written in full again.
      clock.advance(60_000);
      assert.equal(warnings.length, 2);
      assert.equal((await fetch(`${base}ampflow-files/again/a.bin`)).status, 404);
      assert.equal(warnings.length, 3);
      assert.match(warnings[2] ?? '', /refused: unknown token/);
    } finally {
      await close();
    }
  });

  it(`the refusal log keeps at most ${MAX_SUMMARIZED_ADDRESSES} addresses apart; the rest are summed in one line`, () => {
    const clock = new ManualClock();
    const lines: string[] = [];
    const log = new RefusalLog(clock, { warn: (line) => lines.push(line) });
    const addresses = Array.from(
      { length: 30 * MAX_SUMMARIZED_ADDRESSES },
      (_, i) => `10.0.${i >> 8}.${i & 255}`,
    );
    for (const address of addresses)
      for (let i = 0; i < 3; i++) log.refused(address, 'unknown token', () => `first from ${address}`);
    assert.equal(log.tracked, MAX_SUMMARIZED_ADDRESSES);
    assert.equal(lines.length, MAX_SUMMARIZED_ADDRESSES);
    clock.advance(60_000);
    assert.equal(lines.length, 2 * MAX_SUMMARIZED_ADDRESSES + 1);
    assert.equal(
      lines[MAX_SUMMARIZED_ADDRESSES],
      '2 more file requests from 10.0.0.0 refused in the last minute (2 unknown token)',
    );
    assert.equal(
      lines.at(-1),
      `${3 * 29 * MAX_SUMMARIZED_ADDRESSES} more file requests refused in the last minute from further addresses (${MAX_SUMMARIZED_ADDRESSES} addresses are counted apart)`,
    );
    // Quiet for a minute: forgotten, the room is free again.
    clock.advance(60_000);
    assert.equal(log.tracked, 0);
    assert.equal(clock.pendingTimers, 0);
    log.refused('10.9.9.9', 'unknown token', () => 'first from 10.9.9.9');
    log.close();
    assert.equal(clock.pendingTimers, 0);
  });
});
