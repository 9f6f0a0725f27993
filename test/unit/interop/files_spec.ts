import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeCommand } from '../../../lib/ocpp/commands';
import { fileProgressOf } from '../../../lib/ocpp/file-progress';
import type { FileUpload } from '../../../lib/ocpp/files';
import { answer } from '../../support/charge-point';
import { waitFor } from '../../support/events';
import { advance, nextWithStatus, simTime, useInterop } from './support';

/**
 * UpdateFirmware, GetDiagnostics and GetLog with location "ampflow": the central system serves the
 * firmware and takes the upload on its own port, one token per transfer, and the simulator really
 * downloads and uploads over HTTP (httpTransfers).
 */
describe('files served by the central system (location "ampflow")', () => {
  const interop = useInterop();

  /** A central system, CP-1 connected to it, and the upload link a GetDiagnostics "ampflow" gave it. */
  async function diagnosticsLink() {
    const cs = await interop.harness().centralSystem();
    const { cp } = interop.simulator(cs, 'CP-1');
    await cp.connect();
    const result = await executeCommand(cs, {
      chargePointId: 'CP-1',
      action: 'GetDiagnostics',
      payload: { location: 'ampflow' },
    });
    return { cs, location: (result.request as { location: string }).location };
  }
  const FIRMWARE = Buffer.from('sim-2.0 firmware image \u0000\u0001\u0002'.repeat(1000));

  it('UpdateFirmware: the charger downloads the firmware from the link once; a second GET and a wrong token are refused', async () => {
    const { cs, cp, clock } = await interop.connected('CP-1', {
      httpTransfers: true,
      firmwareVersion: 'sim-1.0',
    });
    const progress = fileProgressOf(cs);
    const downloaded = nextWithStatus(cs, 'FirmwareStatusNotification', 'Downloaded');
    const result = await executeCommand(cs, {
      chargePointId: 'CP-1',
      action: 'UpdateFirmware',
      payload: { location: 'ampflow', file: FIRMWARE, fileName: 'sim-2.0.bin', retrieveDate: simTime(clock) },
    });
    // The download starts at its retrieve date on the simulator's clock (scheduled once it answered).
    await advance(cp, clock, 1000);
    const location = (result.request as { location: string }).location;
    assert.match(
      location,
      new RegExp(`^http://127\\.0\\.0\\.1:${cs.port}/ampflow-files/[A-Za-z0-9_-]{32}/sim-2\\.0\\.bin$`),
    );
    assert.equal('file' in (result.request as object), false, 'the file itself is not sent to the charger');
    await downloaded;
    assert.deepEqual(cp.downloadedFirmware, FIRMWARE);
    // The sidebar's progress: Downloaded, or Installing already (it follows at once).
    assert.match(String(progress.of('CP-1', true)?.firmware?.status), /^(Downloaded|Installing)$/);
    // Once only: the same link again is Gone; a made-up token is Not Found.
    assert.equal((await fetch(location)).status, 410);
    assert.equal((await fetch(location.replace(/files\/[^/]+/, 'files/not-a-token'))).status, 404);
    assert.equal(cs.files.open, 0);
  });

  it('an ocpp-rpc charger in strict mode (its own 1.6 schemas) takes the commands, and any HTTP client fetches and uploads', async () => {
    const cs = await interop.harness().centralSystem();
    const client = interop.harness().charger(cs, 'CP-STRICT', { strictMode: true });
    const asked: Record<string, { location: string }> = {};
    answer(client, 'UpdateFirmware', (params) => {
      asked.UpdateFirmware = params as { location: string };
      return {};
    });
    answer(client, 'GetDiagnostics', (params) => {
      asked.GetDiagnostics = params as { location: string };
      return { fileName: 'diag.tgz' };
    });
    await client.connect();
    await executeCommand(cs, {
      chargePointId: 'CP-STRICT',
      action: 'UpdateFirmware',
      payload: { location: 'ampflow', file: FIRMWARE, fileName: 'fw.bin' },
    });
    const download = await fetch(asked.UpdateFirmware?.location ?? '');
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), FIRMWARE);
    await executeCommand(cs, {
      chargePointId: 'CP-STRICT',
      action: 'GetDiagnostics',
      payload: { location: 'ampflow' },
    });
    const uploaded = waitFor<[FileUpload]>(cs, 'file');
    const form = new FormData();
    form.append('file', new Blob(['tar of logs']), 'diag.tgz');
    const put = await fetch(asked.GetDiagnostics?.location ?? '', { method: 'POST', body: form });
    assert.equal(put.status, 201);
    const [upload] = await uploaded;
    assert.deepEqual([upload.fileName, upload.content?.toString()], ['diag.tgz', 'tar of logs']);
  });

  it('UpdateFirmware from a file on the Node-RED host; a missing file or no file is an InvalidRequest naming it', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ampflow-fw-'));
    try {
      const path = join(directory, 'evlink-3.4.bin');
      writeFileSync(path, FIRMWARE);
      const { cs, cp, clock } = await interop.connected('CP-1', { httpTransfers: true });
      const downloaded = nextWithStatus(cs, 'FirmwareStatusNotification', 'Downloaded');
      await executeCommand(cs, {
        chargePointId: 'CP-1',
        action: 'UpdateFirmware',
        payload: { location: 'ampflow', file: path, retrieveDate: simTime(clock) },
      });
      await advance(cp, clock, 1000);
      await downloaded;
      assert.deepEqual(cp.downloadedFirmware, FIRMWARE);
      await assert.rejects(
        executeCommand(cs, {
          chargePointId: 'CP-1',
          action: 'UpdateFirmware',
          payload: { location: 'ampflow', file: join(directory, 'nope.bin') },
        }),
        /UpdateFirmware: the firmware file .*nope\.bin does not exist/,
      );
      await assert.rejects(
        executeCommand(cs, {
          chargePointId: 'CP-1',
          action: 'UpdateFirmware',
          payload: { location: 'ampflow' },
        }),
        /needs payload\.file/,
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("a broken percent escape in an upload name (%E0%A4%A) is 400 on the chargers' port; the server lives and the link still takes the upload", async () => {
    const { cs, location } = await diagnosticsLink();
    const uploaded = waitFor<[FileUpload]>(cs, 'file');
    assert.equal((await fetch(`${location}%E0%A4%A`, { method: 'PUT', body: 'x' })).status, 400);
    assert.equal((await fetch(`${location}diag.log`, { method: 'PUT', body: 'diag' })).status, 201);
    assert.equal((await uploaded)[0].fileName, 'diag.log');
  });

  it("a link answers only the address of the charger's connection: another host's upload is 403, the charger's is stored", async () => {
    const { cs, location } = await diagnosticsLink();
    // 127.0.0.2 is another host to the central system: the charger's WebSocket comes from 127.0.0.1.
    const status = await new Promise<number>((resolve, reject) => {
      const put = httpRequest(
        `${location}forged.log`,
        { method: 'PUT', localAddress: '127.0.0.2' },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      put.on('error', reject);
      put.end('forged');
    });
    assert.equal(status, 403);
    const uploaded = waitFor<[FileUpload]>(cs, 'file');
    assert.equal((await fetch(`${location}diag.log`, { method: 'PUT', body: 'diag' })).status, 201);
    assert.equal((await uploaded)[0].content?.toString(), 'diag');
  });

  it('GetDiagnostics: the charger PUTs its diagnostics, stored in <data folder>/files/<identity>/ and handed to the flow; the link works once', async () => {
    const dataDirectory = mkdtempSync(join(tmpdir(), 'ampflow-files-'));
    try {
      const cs = await interop.harness().centralSystem({ dataDirectory });
      const progress = fileProgressOf(cs);
      const { cp } = interop.simulator(cs, 'CP-1', { httpTransfers: true });
      await cp.connect();
      const uploaded = waitFor<[FileUpload]>(cs, 'file');
      const status = nextWithStatus(cs, 'DiagnosticsStatusNotification', 'Uploaded');
      const result = await executeCommand(cs, {
        chargePointId: 'CP-1',
        action: 'GetDiagnostics',
        payload: { location: 'ampflow' },
      });
      const location = (result.request as { location: string }).location;
      assert.match(location, /\/ampflow-files\/[A-Za-z0-9_-]{32}\/$/);
      const fileName = (result.response as { fileName: string }).fileName;
      const [upload] = await uploaded;
      await status;
      assert.equal(upload.chargePointId, 'CP-1');
      assert.equal(upload.kind, 'diagnostics');
      assert.equal(upload.fileName, fileName);
      assert.ok(upload.path?.startsWith(join(dataDirectory, 'files', 'CP-1')), upload.path);
      assert.match(readFileSync(upload.path as string, 'utf8'), /^diagnostics of CP-1 at /);
      assert.equal(progress.of('CP-1', true)?.diagnostics?.status, 'Uploaded');
      assert.equal(progress.of('CP-1', true)?.uploaded?.fileName, fileName);
      // The link is spent: another upload to it is refused.
      assert.equal((await fetch(`${location}again.log`, { method: 'PUT', body: 'x' })).status, 410);
    } finally {
      rmSync(dataDirectory, { recursive: true, force: true });
    }
  });

  it('OCPP 2.0.1 GetLog: the station POSTs its log (multipart) to the link; LogStatusNotification Uploaded with its requestId', async () => {
    const cs = await interop.harness().centralSystem();
    const progress = fileProgressOf(cs);
    const { cp } = interop.simulator(cs, 'CS-201', { httpTransfers: true, ocppVersion: '2.0.1' });
    await cp.connect();
    const uploaded = waitFor<[FileUpload]>(cs, 'file');
    const status = nextWithStatus(cs, 'LogStatusNotification', 'Uploaded');
    const result = await executeCommand(cs, {
      chargePointId: 'CS-201',
      action: 'GetLog',
      payload: { logType: 'SecurityLog', requestId: 17, log: { remoteLocation: 'ampflow' } },
    });
    assert.match(
      (result.request as { log: { remoteLocation: string } }).log.remoteLocation,
      /^http:\/\/127\.0\.0\.1:\d+\/ampflow-files\/[A-Za-z0-9_-]{32}\/$/,
    );
    const [upload] = await uploaded;
    await status;
    assert.equal(upload.kind, 'log');
    assert.equal(upload.requestId, 17);
    assert.equal(upload.fileName, 'SecurityLog-CS-201-17.log');
    assert.equal(upload.content?.toString('utf8'), 'SecurityLog of CS-201, request 17\n');
    const log = progress.of('CS-201', true)?.log;
    assert.deepEqual(log, { status: 'Uploaded', at: log?.at, requestId: 17 });
  });

  it('OCPP 2.0.1: GetDiagnostics in 1.6 words goes as GetLog with the link, and the upload arrives', async () => {
    const cs = await interop.harness().centralSystem();
    const { cp } = interop.simulator(cs, 'CS-201', { httpTransfers: true, ocppVersion: '2.0.1' });
    await cp.connect();
    const uploaded = waitFor<[FileUpload]>(cs, 'file');
    await executeCommand(cs, {
      chargePointId: 'CS-201',
      action: 'GetDiagnostics',
      payload: { location: 'ampflow' },
    });
    const [upload] = await uploaded;
    assert.equal(upload.kind, 'diagnostics');
    assert.match(upload.content?.toString('utf8') ?? '', /^DiagnosticsLog of CS-201/);
  });
});
