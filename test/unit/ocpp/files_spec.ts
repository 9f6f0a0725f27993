import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../lib/clock';
import { FILE_TOKEN_TTL_MS, FileExchange, type FileUpload } from '../../../lib/ocpp/files';

/** The file exchange on a plain HTTP server, its tokens on a ManualClock. */
async function served(maxUploadBytes?: number) {
  const clock = new ManualClock();
  const uploads: FileUpload[] = [];
  const warnings: string[] = [];
  const files = new FileExchange({
    clock,
    log: { info() {}, warn: (text: string) => warnings.push(text), error() {} },
    ...(maxUploadBytes ? { maxUploadBytes } : {}),
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
});
