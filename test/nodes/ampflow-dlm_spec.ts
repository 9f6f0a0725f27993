import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';

import centralSystemNode = require('../../nodes/ampflow-central-system');
import dlmNode = require('../../nodes/ampflow-dlm');
import meterNode = require('../../nodes/ampflow-meter');
import modbusBusNode = require('../../nodes/ampflow-modbus-bus');

import type { SetPoint } from '../../lib/contracts';
import type { SiteSummary } from '../../lib/dlm/report/summary';
import type { SiteConfig } from '../../lib/dlm/site';
import type { CentralSystemNode } from '../../nodes/types';
import { rpcChargePoint } from '../support/charge-point';
import { waitFor } from '../support/events';
import { centralSystemConfig } from '../support/flows';
import { nodeRedVersion } from '../support/node-red';
import { BOOT } from '../support/ocpp';
import { PlainCharger } from '../support/plain-charger';
import { freePort } from '../support/ports';
import { CATCH_ALL, listening, onTab, useHelperServer } from './fixtures';

interface Msg<T> {
  topic: string;
  payload: T;
}

const site: SiteConfig = {
  circuits: [{ id: 'zone', limitA: 32, meter: { source: 'zone-meter', location: 'otherLoadsOnly' } }],
  // The chargers' own offline limit (issue 36): 2 × 6 A and the other loads fit the 32 A if
  // ampflow stops; at their 32 A maximum the status would say so instead of what charges.
  connectors: [
    { chargePointId: 'CP-1', circuit: 'zone', offlineA: 6 },
    { chargePointId: 'CP-2', circuit: 'zone', offlineA: 6 },
  ],
};

const state = (chargePointId: string, status: string, extra: Record<string, unknown> = {}) => ({
  topic: `${chargePointId}/ConnectorState`,
  payload: { chargePointId, connectorId: 1, online: true, status, ...extra },
});
const tx = (transactionId: number) => ({
  transaction: { transactionId, idTag: 'TAG', startedAt: new Date().toISOString(), meterStartWh: 0 },
});

describe(`ampflow-dlm node (Node-RED ${nodeRedVersion()})`, () => {
  useHelperServer();

  async function load(settings: Record<string, unknown> = {}) {
    await helper.load(
      [dlmNode],
      onTab(
        {
          id: 'dlm',
          type: 'ampflow-dlm',
          site: JSON.stringify(site),
          wires: [['setPoints'], ['summary']],
          ...settings,
        },
        { id: 'setPoints', type: 'helper' },
        { id: 'summary', type: 'helper' },
        ...CATCH_ALL,
      ),
    );
    return {
      dlm: helper.getNode('dlm'),
      setPoints: helper.getNode('setPoints'),
      summary: helper.getNode('summary'),
    };
  }

  it('turns connector states and readings into set-points on output 1 and a summary on output 2', async () => {
    const { dlm, setPoints, summary } = await load();
    const received: Msg<SetPoint>[] = [];
    setPoints.on('input', (msg: unknown) => received.push(msg as Msg<SetPoint>));
    // (9.9 A on L1: 22 A left beside it and the 0.005 A its reading may hide, lib/dlm/evidence/circuit-view.ts.)
    dlm.receive({ topic: 'zone-meter', payload: { currentA: [9.9, 4, 4] } });
    dlm.receive(state('CP-2', 'Available'));
    const started = waitFor<[Msg<SetPoint>]>(
      setPoints,
      'input',
      (msg: Msg<SetPoint>) => msg.payload.limitA > 0,
    );
    const status = waitFor<[{ args: [{ text: string }] }]>(
      dlm,
      'call:status',
      (call: { args: [{ text: string }] }) => call.args[0].text === '1 charging, 6 A',
    );
    const reported = waitFor<[Msg<SiteSummary>]>(
      summary,
      'input',
      (msg: Msg<SiteSummary>) => msg.payload.charging === 1,
    );
    dlm.receive(state('CP-1', 'Charging', { ...tx(1), currentA: [0, 0, 0] }));
    const [msg] = await started;
    assert.equal(msg.topic, 'CP-1/SetPoint');
    assert.deepEqual(msg.payload, {
      chargePointId: 'CP-1',
      connectorId: 1,
      // The offline fallback chosen for it (issue 36): its 6 A minimum fits the circuit.
      fallbackA: 6,
      limitA: 6,
      phases: 3,
      reason: 'ramping up to 22 A',
    });
    const [summaryMsg] = await reported;
    assert.equal(summaryMsg.topic, 'summary');
    assert.deepEqual(summaryMsg.payload.circuits[0]?.otherA, [9.9, 4, 4]);
    await status;
  });

  it('says in its status when the chargers’ fallbacks would not fit if ampflow stopped (issue 36)', async () => {
    const unfit = { ...site, connectors: site.connectors.map(({ offlineA: _, ...rest }) => rest) };
    const { dlm } = await load({ site: JSON.stringify(unfit) });
    // 2 × 32 A (their maximum: no offlineA, no fallback confirmed) + 12.5 A (10 A learned, + 25 %).
    const status = waitFor(
      dlm,
      'call:status',
      (call: { args: [{ text: string }] }) => call.args[0].text === 'fallbacks 77/32 A',
    );
    dlm.receive({ topic: 'zone-meter', payload: { currentA: [10, 4, 4] } });
    dlm.receive(state('CP-1', 'Available'));
    dlm.receive(state('CP-2', 'Available'));
    await status;
  });

  it('waits for the first reading, not "overload", after the car-park example is deployed with no reading and no charger (issue 38)', async () => {
    const port = await freePort();
    const example = JSON.parse(
      readFileSync(
        join(__dirname, '..', '..', 'examples', 'Scenario - Car park with a DLM meter.json'),
        'utf8',
      ),
    ) as Record<string, unknown>[];
    const cs = example.find((n) => n.type === 'ampflow-central-system');
    const dlm = example.find((n) => n.type === 'ampflow-dlm');
    assert.ok(cs && dlm);
    await helper.load(
      [centralSystemNode, dlmNode],
      onTab(
        { ...cs, id: 'cs', host: '127.0.0.1', port: String(port) },
        { ...dlm, id: 'dlm', centralSystem: 'cs', wires: [[], ['summary']] },
        { id: 'summary', type: 'helper' },
        ...CATCH_ALL,
      ),
    );
    const node = helper.getNode('dlm');
    const texts: string[] = [];
    (node as unknown as EventEmitter).on('call:status', (call: { args: [{ text: string }] }) =>
      texts.push(call.args[0].text),
    );
    const waiting = waitFor(
      node,
      'call:status',
      (call: { args: [{ text: string }] }) => call.args[0].text === 'waiting for reading',
    );
    // Nothing measured: the whole 63 A is assumed for the other loads, which is no overload.
    const [msg] = await waitFor<[Msg<SiteSummary>]>(helper.getNode('summary'), 'input', () => true);
    const circuit = msg.payload.circuits[0];
    assert.equal(circuit?.meter?.stale, true);
    assert.equal(circuit?.overloaded, false);
    await waiting;
    assert.ok(!texts.includes('overload'), texts.join(', '));
  });

  it('shows "overload" when what is measured exceeds a limit', async () => {
    const { dlm } = await load();
    const status = waitFor<[{ args: [{ text: string; fill: string }] }]>(
      dlm,
      'call:status',
      (call: { args: [{ text: string }] }) => call.args[0].text === 'overload',
    );
    dlm.receive({ topic: 'zone-meter', payload: { currentA: [40, 4, 4] } });
    const [call] = await status;
    assert.equal(call.args[0].fill, 'red');
  });

  it('carries out commands (mode, siteLimit) and sends errors to Catch nodes', async () => {
    const { dlm, setPoints } = await load();
    dlm.receive({ topic: 'zone-meter', payload: { source: 'zone-meter', currentA: [0, 0, 0] } });
    dlm.receive(state('CP-2', 'Available'));
    dlm.receive(state('CP-1', 'SuspendedEVSE', tx(1)));
    const paused = waitFor<[Msg<SetPoint>]>(
      setPoints,
      'input',
      (msg: Msg<SetPoint>) => msg.payload.reason === 'off: mode off',
    );
    dlm.receive({ topic: 'mode', payload: { chargePointId: 'CP-1', mode: 'off' } });
    assert.equal((await paused)[0].payload.limitA, 0);
    const caught = waitFor<[{ error: { message: string } }]>(helper.getNode('caught'), 'input');
    dlm.receive({ topic: 'mode', payload: { chargePointId: 'CP-9', mode: 'fast' } });
    assert.match((await caught)[0].error.message, /no connector CP-9\/\* in the site model/);
    // A site limit that would remove a constraint (one value for three phases) is refused.
    const refused = waitFor<[{ error: { message: string } }]>(helper.getNode('caught'), 'input');
    dlm.receive({ topic: 'siteLimit', payload: { limitA: [10] } });
    assert.match(
      (await refused)[0].error.message,
      /siteLimit limitA: expected one number or three \[L1, L2, L3\], got \[10\]/,
    );
  });

  it('refuses a site with problems, naming each, and shows it in its status', async () => {
    const bad = {
      circuits: [{ id: 'zone', limitA: -1 }],
      connectors: [{ chargePointId: 'CP-1', circuit: 'nowhere' }],
    };
    const errors: string[] = [];
    await helper.load(
      [dlmNode],
      onTab({ id: 'dlm', type: 'ampflow-dlm', site: JSON.stringify(bad), wires: [[], []] }),
    );
    const dlm = helper.getNode('dlm');
    for (const call of (dlm as unknown as { error: { args: unknown[][] } }).error.args)
      errors.push(String(call[0]));
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /circuit "zone" limitA: L1 -1 A is negative/);
    assert.match(errors[0] ?? '', /connector "CP-1\/1" circuit: no circuit has the id "nowhere"/);
    const status = (dlm as unknown as { status: { lastCall: { args: [{ text: string }] } } }).status.lastCall
      .args[0];
    assert.equal(status.text, 'settings error');
  });

  it('checks a site for the editor (admin route), with problems and warnings', async () => {
    await load();
    const response = await helper
      .request()
      .post('/ampflow-dlm/validate')
      .send({
        circuits: [
          { id: 'main', limitA: 40 },
          { id: 'sub', parent: 'main', limitA: 50 },
        ],
        connectors: [{ chargePointId: 'CP-1', circuit: 'sub', minA: 10, maxA: 8 }],
      })
      .expect(200);
    const body = response.body as { problems: { field: string }[]; warnings: { field: string }[] };
    assert.deepEqual(
      body.problems.map((p) => p.field),
      ['connector "CP-1/1" minA'],
    );
    assert.deepEqual(
      body.warnings.map((w) => w.field),
      ['circuit "sub" limitA'],
    );
  });

  it('takes connector states straight from a central system', async () => {
    const port = await freePort();
    await helper.load(
      [centralSystemNode, dlmNode],
      onTab(
        centralSystemConfig(port),
        {
          id: 'dlm',
          type: 'ampflow-dlm',
          centralSystem: 'cs',
          site: JSON.stringify({
            circuits: [{ id: 'line', limitA: 16 }],
            connectors: [{ chargePointId: 'CP-1', circuit: 'line' }],
          }),
          wires: [['setPoints'], []],
        },
        { id: 'setPoints', type: 'helper' },
      ),
    );
    await listening(helper.getNode('cs') as CentralSystemNode);
    const setPoints = helper.getNode('setPoints');
    const charger = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-1');
    try {
      await charger.connect();
      await charger.call('BootNotification', BOOT);
      const started = waitFor<[Msg<SetPoint>]>(
        setPoints,
        'input',
        (msg: Msg<SetPoint>) => msg.payload.limitA === 6,
      );
      await charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
      const [msg] = await started;
      assert.equal(msg.payload.reason, 'ramping up to 16 A');
      // The same reason as a message key with parameters, beside the text (issue 48).
      assert.deepEqual((msg as unknown as { reasonWords: unknown }).reasonWords, [
        { key: 'rampingUp', params: { amps: '16' } },
      ]);
    } finally {
      await charger.close();
    }
  });

  it('compares the site’s phase rotation with the charger’s ConnectorPhaseRotation: a warning naming both in the log and in Check the site, and what is assumed where the site leaves it out', async () => {
    const port = await freePort();
    const rotated = {
      circuits: [{ id: 'line', limitA: 32 }],
      connectors: [
        { chargePointId: 'CP-R', connectorId: 1, circuit: 'line', phaseRotation: 'RST' },
        { chargePointId: 'CP-R', connectorId: 2, circuit: 'line' },
      ],
    };
    await helper.load(
      [centralSystemNode, dlmNode],
      onTab(centralSystemConfig(port, { readConfigurationOnBoot: true }), {
        id: 'dlm',
        type: 'ampflow-dlm',
        centralSystem: 'cs',
        site: JSON.stringify(rotated),
        wires: [[], []],
      }),
    );
    const csNode = helper.getNode('cs') as CentralSystemNode;
    await listening(csNode);
    // Bender "Phase rotation of the ChargePoint": connector 1 wired L1-L3-L2; connector 2 as the grid.
    const charger = new PlainCharger('CP-R', { connectors: 2 }).configure(
      'ConnectorPhaseRotation',
      '0.RST,1.RTS,2.RST',
    );
    try {
      const read = waitFor(
        csNode.centralSystem as unknown as EventEmitter,
        'command',
        (command: { action: string; response?: unknown }) =>
          command.action === 'GetConfiguration' && command.response !== undefined,
      );
      await charger.connect(`ws://127.0.0.1:${port}/`);
      await read;
      const warned = (helper.getNode('dlm') as unknown as { warn: { args: unknown[][] } }).warn.args
        .map((call) => String(call[0]))
        .filter((message) => /phaseRotation/.test(message));
      assert.deepEqual(warned, [
        'connector "CP-R/1" phaseRotation: charger CP-R reports RTS while the site says RST (its ConnectorPhaseRotation "0.RST,1.RTS,2.RST"); the load manager counts the car\'s phases on the grid phases RST names: set the site\'s phaseRotation to what the charger is wired with, or correct the charger\'s setting',
      ]);
      const response = await helper
        .request()
        .post('/ampflow-dlm/validate?centralSystem=cs')
        .send(rotated)
        .expect(200);
      const body = response.body as {
        warnings: { field: string; message: string }[];
        notes: { field: string; message: string }[];
      };
      const rotations = body.warnings.filter((w) => /phaseRotation/.test(w.field));
      assert.deepEqual(
        rotations.map((w) => w.field),
        ['connector "CP-R/1" phaseRotation'],
      );
      assert.match(rotations[0]?.message ?? '', /^charger CP-R reports RTS while the site says RST/);
      assert.deepEqual(body.notes, [
        {
          field: 'connectors phaseRotation',
          message:
            'not given for "CP-R/2": RST assumed (the charger\'s L1, L2, L3 on the grid\'s L1, L2, L3); where a charger is wired rotated (Bender "Phase rotation of the ChargePoint", its ConnectorPhaseRotation), enter its rotation',
        },
      ]);
    } finally {
      await charger.close();
    }
  });

  it("finds a circuit's meter by the meter node's id, so that renaming the meter keeps the link", async () => {
    const port = await freePort();
    const meterSite = (node: string): SiteConfig => ({
      circuits: [
        { id: 'zone', limitA: 32, meter: { node, source: 'grid meter', location: 'otherLoadsOnly' } },
      ],
      connectors: [{ chargePointId: 'CP-1', circuit: 'zone' }],
    });
    const flow = (node: string) =>
      onTab(
        { id: 'dlm', type: 'ampflow-dlm', site: JSON.stringify(meterSite(node)), wires: [[], ['summary']] },
        { id: 'summary', type: 'helper' },
        { id: 'bus', type: 'ampflow-modbus-bus', transport: 'tcp', host: '127.0.0.1', port: String(port) },
        // Renamed since the circuit was saved ("grid meter" then); reads only when asked (poll 0).
        {
          id: 'm1',
          type: 'ampflow-meter',
          name: 'grid meter, renamed',
          bus: 'bus',
          profile: 'eastron-sdm630',
          pollIntervalS: '0',
        },
        ...CATCH_ALL,
      );
    await helper.load([dlmNode, modbusBusNode, meterNode], flow('m1'));
    const reported = waitFor<[Msg<SiteSummary>]>(
      helper.getNode('summary'),
      'input',
      (msg: Msg<SiteSummary>) => Array.isArray(msg.payload.circuits[0]?.otherA),
    );
    helper.getNode('dlm').receive({ topic: 'grid meter, renamed', payload: { currentA: [10, 4, 4] } });
    const [summary] = await reported;
    assert.equal(summary.payload.circuits[0]?.meter?.source, 'grid meter, renamed');
    assert.deepEqual(summary.payload.circuits[0]?.otherA, [10, 4, 4]);

    // A meter node no longer in the flows: the name saved with the circuit is used, and a warning says so.
    await helper.unload();
    await helper.load([dlmNode, modbusBusNode, meterNode], flow('gone'));
    const warnings = (helper.getNode('dlm') as unknown as { warn: { args: unknown[][] } }).warn.args.map(
      String,
    );
    assert.ok(
      warnings.some((w) =>
        /circuit "zone" meter\.node: meter node gone is not in the deployed flows; readings named "grid meter" are used/.test(
          w,
        ),
      ),
      warnings.join('\n'),
    );
  });
});
