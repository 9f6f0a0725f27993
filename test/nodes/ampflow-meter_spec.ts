import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';

import meterNode = require('../../nodes/ampflow-meter');
import busNode = require('../../nodes/ampflow-modbus-bus');

import type { Reading } from '../../lib/contracts';
import { findProfile } from '../../lib/modbus/profiles';
import type { DeviceProfile } from '../../lib/modbus/types';
import { SimulatedMeter } from '../../sim/modbus-meter';
import { ModbusSimServer } from '../../sim/modbus-server';
import { waitFor } from '../support/events';
import { nodeRedVersion } from '../support/node-red';
import { CATCH_ALL, onTab, tcpBusConfig, useHelperServer, wiredToOut } from './fixtures';

interface SpyCall {
  args: unknown[];
}

interface Msg {
  topic: string;
  payload: Reading;
  stale?: boolean;
  error?: { message: string; source?: { id: string; type: string } };
  tag?: string;
}

describe(`ampflow-meter node (Node-RED ${nodeRedVersion()})`, () => {
  let server: ModbusSimServer;
  let simulated: SimulatedMeter;

  beforeEach(async () => {
    server = new ModbusSimServer({ kind: 'tcp' });
    await server.start();
    simulated = new SimulatedMeter(findProfile('siemens-pac2200') as DeviceProfile, {
      values: { totalPowerW: -4200 },
    });
    server.addUnit(1, simulated);
  });

  useHelperServer();

  afterEach(async () => {
    await server.stop();
  });

  const load = (settings: Record<string, unknown> = {}, extra: Record<string, unknown>[] = []) =>
    helper.load(
      [busNode, meterNode],
      onTab(
        tcpBusConfig(server.port),
        ...wiredToOut({
          id: 'meter',
          type: 'ampflow-meter',
          name: 'Grid',
          bus: 'bus',
          profile: 'siemens-pac2200',
          unitId: '1',
          pollIntervalS: '0.2',
          ...settings,
        }),
        ...extra,
      ),
    );

  it('emits one message per reading: topic the meter name, payload the Reading, stale false', async () => {
    await load();
    const [msg] = await waitFor<[Msg]>(helper.getNode('out'), 'input');
    assert.equal(msg.topic, 'Grid');
    assert.equal(msg.stale, false);
    assert.equal(msg.payload.source, 'Grid');
    assert.equal(msg.payload.totalPowerW, -4200);
    assert.deepEqual(msg.payload.voltageV, [230.1, 231.2, 229.8]);
    assert.ok(Date.now() - Date.parse(msg.payload.timestamp) < 5000);
    await waitFor<[SpyCall]>(
      helper.getNode('meter'),
      'call:status',
      (call: SpyCall) => (call.args[0] as { text: string }).text === '-4.20 kW',
    );
  });

  it('reads on demand: the message goes on with the reading; a failure reaches Catch nodes', async () => {
    await load({ pollIntervalS: '0' }, [...CATCH_ALL]);
    const out = waitFor<[Msg]>(helper.getNode('out'), 'input');
    helper.getNode('meter').receive({ tag: 'keep me' });
    const [msg] = await out;
    assert.equal(msg.tag, 'keep me');
    assert.equal(msg.payload.totalPowerW, -4200);

    server.faults(1).exception = { code: 4 };
    const caught = waitFor<[Msg]>(helper.getNode('caught'), 'input');
    helper.getNode('meter').receive({ tag: 'again' });
    const [failure] = await caught;
    assert.match(
      (failure.error as { message: string }).message,
      /meter "Grid" \(unit 1 on bus "main"\): voltageL1, .* \(FC3 1-66\): exception 4 \(device failure\)$/,
    );
  });

  it('reports stale with the last reading when the meter stops answering, and warns once', async () => {
    await load({ pollIntervalS: '0.2', staleAfterS: '0.6', timeoutMs: '100' });
    const out = helper.getNode('out');
    await waitFor<[Msg]>(out, 'input');
    const meter = helper.getNode('meter');
    const warnings: string[] = [];
    (meter as unknown as NodeJS.EventEmitter).on('call:warn', (call: SpyCall) =>
      warnings.push(String(call.args[0])),
    );
    server.faults(1).silent = true;
    const [stale] = await waitFor<[Msg]>(out, 'input', (msg: Msg) => msg.stale === true, 5000);
    assert.equal(stale.payload.totalPowerW, -4200);
    // The object Node-RED's nodes expect (a debug node showing status reads error.message).
    const error = stale.error as { message: string; source: { id: string; type: string } };
    assert.match(error.message, /no answer within 100 ms|not answering/);
    assert.deepEqual([error.source.id, error.source.type], ['meter', 'ampflow-meter']);
    await waitFor<[SpyCall]>(
      meter,
      'call:status',
      (call: SpyCall) => (call.args[0] as { text: string }).text === 'stale',
    );
    assert.equal(warnings.length, 1, warnings.join('\n'));
    server.faults(1).silent = false;
    const [fresh] = await waitFor<[Msg]>(out, 'input', (msg: Msg) => msg.stale === false, 5000);
    assert.equal(fresh.payload.totalPowerW, -4200);
  });

  it('goes stale when one block keeps failing although the other answers; its readings then say stale', async () => {
    await load({ pollIntervalS: '0.2', staleAfterS: '0.6', timeoutMs: '100' });
    const out = helper.getNode('out');
    await waitFor<[Msg]>(out, 'input', (msg: Msg) => msg.stale === false);
    // Voltages, currents and powers (1-66) fail from now on; the energy block (801-812) answers.
    server.faults(1).exception = { code: 4, from: 1, to: 66 };
    const [stale] = await waitFor<[Msg]>(out, 'input', (msg: Msg) => msg.stale === true, 5000);
    assert.match((stale.error as { message: string }).message, /exception 4/);
    const [partial] = await waitFor<[Msg]>(
      out,
      'input',
      (msg: Msg) =>
        msg.stale === true && msg.payload.totalPowerW === undefined && msg.payload.importWh !== undefined,
      5000,
    );
    assert.deepEqual(partial.payload.currentA, [null, null, null]);
    server.faults(1).exception = undefined;
    await waitFor<[Msg]>(
      out,
      'input',
      (msg: Msg) => msg.stale === false && msg.payload.totalPowerW === -4200,
      5000,
    );
  });

  it("raises a poll interval below the device's minimum and warns, naming the meter", async () => {
    await load({ profile: 'huawei-sun2000-meter', pollIntervalS: '1' });
    const warnings = (helper.getNode('meter') as unknown as { warn: { args: unknown[][] } }).warn.args;
    assert.ok(
      warnings.some((args) =>
        /meter "Grid": poll interval raised from 1 s to 2 s, the shortest the Huawei grid meter via SUN2000/.test(
          String(args[0]),
        ),
      ),
      JSON.stringify(warnings),
    );
  });

  it("reads a meter described in the editor's register table", async () => {
    const profile = findProfile('janitza-umg604') as DeviceProfile;
    server.addUnit(9, new SimulatedMeter(profile, { values: { totalPowerW: 777 } }));
    await load({
      unitId: '9',
      profile: 'custom',
      customFunctionCode: '3',
      customWordOrder: 'ABCD',
      customPowerSign: 'import-positive',
      customReadable: '19000-19121',
      customRegisters: [
        { measurand: 'powerTotal', address: '19026', type: 'float32', unit: 'W' },
        { measurand: 'voltageL1', address: '19000', type: 'float32', unit: 'V' },
      ],
    });
    const [msg] = await waitFor<[Msg]>(helper.getNode('out'), 'input');
    assert.deepEqual(
      { total: msg.payload.totalPowerW, voltage: msg.payload.voltageV },
      { total: 777, voltage: [230.1, null, null] },
    );
  });

  it('names the wrong field of a custom profile and does not poll', async () => {
    await load({
      profile: 'custom',
      customRegisters: [{ measurand: 'currentL1', address: '6', type: 'float32', unit: 'W' }],
    });
    // The error is logged while the flow starts: read it from the helper's spy.
    const errors = (helper.getNode('meter') as unknown as { error: { args: unknown[][] } }).error.args;
    assert.match(String(errors[0]?.[0]), /registers\[0\]\.unit: W is not a unit of currentL1/);
    assert.equal(server.requestCounts.get(1) ?? 0, 0);
  });

  it('gives the editor the profile list with what is uncertain, and one profile in full', async () => {
    await load();
    const list = await helper.request().get('/ampflow-meter/profiles').expect(200);
    const pac = (list.body as { id: string; uncertain: { measurand: string }[] }[]).find(
      (p) => p.id === 'siemens-pac2200',
    );
    assert.deepEqual(
      pac?.uncertain.map((u) => u.measurand),
      ['frequency'],
    );
    const full = await helper.request().get('/ampflow-meter/profiles/eastron-sdm630').expect(200);
    assert.equal(full.body.registers.length, 13);
    await helper.request().get('/ampflow-meter/profiles/nope').expect(404);
  });
});
