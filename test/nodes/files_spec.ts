import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';

import centralSystemNode = require('../../nodes/ampflow-central-system');
import ocppCommandNode = require('../../nodes/ampflow-ocpp-command');
import ocppInNode = require('../../nodes/ampflow-ocpp-in');

import type { EventEmitter } from 'node:events';
import { ManualClock } from '../../lib/clock';
import type { ChargePointMessage } from '../../lib/contracts';
import type { SidebarCentralSystem } from '../../nodes/chargers-sidebar';
import type { CentralSystemNode } from '../../nodes/types';
import { SimulatedChargePoint } from '../../sim/charge-point';
import { waitFor } from '../support/events';
import { centralSystemConfig } from '../support/flows';
import { freePort } from '../support/ports';
import { listening, onTab, useHelperServer } from './fixtures';

interface Msg {
  topic: string;
  chargePointId: string;
  action: string;
  payload: Record<string, unknown>;
}

/**
 * Issue 37: a flow asks a charger for its diagnostics with location "ampflow"; the charger uploads
 * them to the central system's own port; an ocpp-in node gets FileUploaded with the file's path
 * in the central system's data folder, and the Chargers sidebar shows the upload's progress.
 */
describe('files served by the central-system node', () => {
  useHelperServer();

  it('GetDiagnostics with location "ampflow": FileUploaded reaches the flow, the sidebar shows Uploaded and the file', async () => {
    const port = await freePort();
    const dataDirectory = mkdtempSync(join(tmpdir(), 'ampflow-node-files-'));
    const sim = new SimulatedChargePoint({
      centralSystemUrl: `ws://127.0.0.1:${port}/`,
      identity: 'CP-1',
      clock: new ManualClock(),
      httpTransfers: true,
      configuration: { WebSocketPingInterval: 0 },
    });
    try {
      await helper.load(
        [centralSystemNode, ocppCommandNode, ocppInNode],
        onTab(
          centralSystemConfig(port, { dataDirectory }),
          {
            id: 'command',
            type: 'ampflow-ocpp-command',
            centralSystem: 'cs',
            chargePointId: 'CP-1',
            action: 'GetDiagnostics',
            payload: '',
            timeoutS: '',
            wires: [['answer']],
          },
          { id: 'answer', type: 'helper' },
          {
            id: 'in',
            type: 'ampflow-ocpp-in',
            centralSystem: 'cs',
            chargePoints: '',
            actions: ['FileUploaded'],
            mode: 'messages',
            wires: [['files']],
          },
          { id: 'files', type: 'helper' },
        ),
      );
      await listening(helper.getNode('cs') as CentralSystemNode);
      await sim.connect();
      const answered = waitFor<[Msg]>(helper.getNode('answer'), 'input');
      const uploaded = waitFor<[Msg]>(helper.getNode('files'), 'input');
      const cs = (helper.getNode('cs') as CentralSystemNode).centralSystem;
      const reported = waitFor<[ChargePointMessage]>(
        cs as unknown as EventEmitter,
        'message',
        (m: ChargePointMessage) =>
          m.action === 'DiagnosticsStatusNotification' &&
          (m.request as { status?: string }).status === 'Uploaded',
      );
      helper.getNode('command').receive({ payload: { location: 'ampflow' } });
      const [answer] = await answered;
      const [file] = await uploaded;
      assert.equal(file.topic, 'CP-1/FileUploaded');
      assert.equal(file.payload.kind, 'diagnostics');
      assert.equal(file.payload.fileName, answer.payload.fileName);
      assert.ok(
        String(file.payload.path).startsWith(join(dataDirectory, 'files', 'CP-1')),
        String(file.payload.path),
      );
      assert.match(readFileSync(String(file.payload.path), 'utf8'), /^diagnostics of CP-1/);
      await reported;
      const response = await helper.request().get('/ampflow-central-system/chargers').expect(200);
      const listed = (response.body as SidebarCentralSystem[])[0]?.chargePoints.find(
        (c) => c.chargePointId === 'CP-1',
      );
      assert.equal(listed?.files?.diagnostics?.status, 'Uploaded');
      assert.equal(listed?.files?.uploaded?.fileName, answer.payload.fileName);
    } finally {
      await sim.close();
      rmSync(dataDirectory, { recursive: true, force: true });
    }
  });
});
