import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';

import meterNode = require('../../nodes/ampflow-meter');
import busNode = require('../../nodes/ampflow-modbus-bus');

import { findProfile } from '../../lib/modbus/profiles';
import type { DeviceProfile } from '../../lib/modbus/types';
import type { ModbusBusNode } from '../../nodes/modbus-types';
import { SimulatedMeter } from '../../sim/modbus-meter';
import { ModbusSimServer } from '../../sim/modbus-server';
import { waitFor } from '../support/events';
import { nodeRedVersion } from '../support/node-red';
import { freePort } from '../support/ports';
import { openPtyPair, type PtyPair } from '../support/pty';
import { waitUntil } from '../unit/modbus/harness';
import { onTab, tcpBusConfig, useHelperServer } from './fixtures';

interface SpyCall {
  args: unknown[];
}

const meter = (settings: Record<string, unknown> = {}) => ({
  id: 'meter',
  type: 'ampflow-meter',
  name: 'grid',
  bus: 'bus',
  profile: 'eastron-sdm630',
  unitId: '1',
  pollIntervalS: '0.2',
  wires: [[]],
  ...settings,
});

/** An RTU-over-TCP bus `bus` that waits `drainAfterTimeoutMs` for the line to fall silent after a timeout. */
const rtuOverTcpBus = (drainAfterTimeoutMs: string) => ({
  id: 'bus',
  type: 'ampflow-modbus-bus',
  transport: 'rtu-over-tcp',
  host: '127.0.0.1',
  drainAfterTimeoutMs,
});

describe(`ampflow-modbus-bus node (Node-RED ${nodeRedVersion()})`, () => {
  let server: ModbusSimServer | undefined;
  let pty: PtyPair | undefined;

  useHelperServer();

  afterEach(async () => {
    await server?.stop();
    server = undefined;
    await pty?.close();
    pty = undefined;
  });

  it('connects when its first meter starts, fans its state out, and closes on unload', async () => {
    server = new ModbusSimServer({ kind: 'tcp' });
    await server.start();
    server.addUnit(1, new SimulatedMeter(findProfile('eastron-sdm630') as DeviceProfile));
    await helper.load([busNode, meterNode], onTab(tcpBusConfig(server.port), meter()));
    const status = waitFor<[SpyCall]>(helper.getNode('meter'), 'call:status', (call: SpyCall) =>
      /kW$/.test(String((call.args[0] as { text: string }).text)),
    );
    await status;
    assert.equal((helper.getNode('bus') as ModbusBusNode).bus?.state, 'connected');
    assert.equal(server.connections, 1);
    const sim = server;
    await helper.unload();
    await waitUntil(() => sim.connections === 0, 'the bus closed its connection');
  });

  it('shows a refused connection as "reconnecting", logged at start-up as information, not as an error', async () => {
    const port = await freePort();
    await helper.load([busNode, meterNode], onTab(tcpBusConfig(port, { name: 'gone' }), meter()));
    const bus = helper.getNode('bus');
    let problems = 0;
    const spied = bus as unknown as NodeJS.EventEmitter;
    spied.on('call:warn', () => {
      problems += 1;
    });
    spied.on('call:error', () => {
      problems += 1;
    });
    const [logged] = await waitFor<[SpyCall]>(bus, 'call:log');
    // A meter still unreachable 30 s after the start is warned about (test/unit/modbus/bus_spec.ts).
    assert.match(
      String(logged.args[0]),
      new RegExp(
        `modbus bus "gone": cannot connect to tcp://127.0.0.1:${port}: .*ECONNREFUSED.*; retrying \\(a warning follows if it fails for 30 s\\)`,
      ),
    );
    // The meter is stale at once: a refused connection is known bad news (it showed "reconnecting"
    // until its 3 s stale timer before).
    await waitFor<[SpyCall]>(
      helper.getNode('meter'),
      'call:status',
      (call: SpyCall) => (call.args[0] as { text: string }).text === 'stale: reconnecting',
    );
    assert.equal(problems, 0);
  });

  it('warns once when its meter dies, however often it retries, and logs the recovery as information (issue 38)', async () => {
    const port = await freePort();
    const serve = async () => {
      server = new ModbusSimServer({ kind: 'tcp', host: '127.0.0.1', port });
      server.addUnit(1, new SimulatedMeter(findProfile('eastron-sdm630') as DeviceProfile));
      await server.start();
    };
    await serve();
    await helper.load([busNode, meterNode], onTab(tcpBusConfig(port, { name: 'dies' }), meter()));
    await waitFor<[SpyCall]>(helper.getNode('meter'), 'call:status', (call: SpyCall) =>
      /kW$/.test(String((call.args[0] as { text: string }).text)),
    );
    const connected = () =>
      waitFor<[SpyCall]>(helper.getNode('bus'), 'call:log', (call: SpyCall) =>
        /connected to/.test(String(call.args[0])),
      );
    const bus = helper.getNode('bus');
    const warnings: string[] = [];
    let errors = 0;
    const spied = bus as unknown as NodeJS.EventEmitter;
    spied.on('call:warn', (call: SpyCall) => warnings.push(String(call.args[0])));
    spied.on('call:error', () => {
      errors += 1;
    });
    // The meter's gateway goes away: a log filtered to warnings shows it.
    const warned = waitFor<[SpyCall]>(bus, 'call:warn');
    await server?.stop();
    server = undefined;
    await warned;
    assert.match(
      warnings[0] ?? '',
      new RegExp(`modbus bus "dies": connection to tcp://127.0.0.1:${port} lost: .*; reconnecting`),
    );
    // Two refused attempts later: no second warning.
    const modbus = (bus as unknown as ModbusBusNode).bus as unknown as NodeJS.EventEmitter;
    let attempts = 0;
    await waitFor(modbus, 'state', (state: string) => state === 'connecting' && ++attempts === 2);
    await waitFor(modbus, 'state', (state: string) => state === 'waiting');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    // It comes back: "connected" as information.
    const back = connected();
    await serve();
    const [logged] = await back;
    assert.equal(String(logged.args[0]), `modbus bus "dies": connected to tcp://127.0.0.1:${port}`);
    assert.equal(warnings.length, 1);
    assert.equal(errors, 0);
  });

  it('refuses settings it cannot use and names the field', async () => {
    await helper.load(
      [busNode, meterNode],
      onTab({ id: 'bus', type: 'ampflow-modbus-bus', transport: 'rtu', serialPath: '' }, meter()),
    );
    const bus = helper.getNode('bus') as ModbusBusNode;
    assert.equal(bus.bus, undefined);
    assert.match(bus.problem ?? '', /^serialPath: name the serial port/);
    // The meter shows it without logging the bus's problem a second time.
    const meterSpy = helper.getNode('meter') as unknown as {
      status: { args: { text: string }[][] };
      error: { args: unknown[][] };
    };
    assert.equal(meterSpy.status.args.at(-1)?.[0]?.text, 'bus settings error');
    // (The helper's spies are shared by all nodes: only the bus's own line may be there.)
    assert.deepEqual(
      meterSpy.error.args.filter((args) => /ampflow-meter/.test(String(args[0]))),
      [],
    );
  });

  it('takes the silence after a timeout for RTU framing, and names the field when it is wrong', async () => {
    await helper.load([busNode, meterNode], onTab(rtuOverTcpBus('-5')));
    const bad = helper.getNode('bus') as ModbusBusNode;
    assert.equal(bad.bus, undefined);
    assert.match(bad.problem ?? '', /^drainAfterTimeoutMs: -5 ms is outside 0 to 60000 ms/);
    await helper.unload();
    await helper.load([busNode, meterNode], onTab(rtuOverTcpBus('400')));
    const good = helper.getNode('bus') as ModbusBusNode;
    assert.equal(good.problem, undefined);
    assert.ok(good.bus);
  });

  it('lists serial ports for the editor', async () => {
    await helper.load(
      busNode,
      onTab({ id: 'bus', type: 'ampflow-modbus-bus', transport: 'tcp', host: '127.0.0.1' }),
    );
    const response = await helper.request().get('/ampflow-modbus-bus/serial-ports').expect(200);
    assert.ok(Array.isArray(response.body));
  });

  it('reads a meter over RTU on a serial port (a pseudo-terminal)', async () => {
    pty = await openPtyPair();
    server = new ModbusSimServer({ kind: 'rtu', path: pty.b, baudRate: 19200, parity: 'even' });
    await server.start();
    server.addUnit(
      2,
      new SimulatedMeter(findProfile('schneider-iem3x5x') as DeviceProfile, {
        values: { totalPowerW: 2500 },
      }),
    );
    await helper.load(
      [busNode, meterNode],
      onTab(
        {
          id: 'bus',
          type: 'ampflow-modbus-bus',
          transport: 'rtu',
          serialPath: pty.a,
          baudRate: '19200',
          parity: 'even',
          dataBits: '8',
          stopBits: '1',
        },
        meter({ profile: 'schneider-iem3x5x', unitId: '2', wires: [['out']] }),
        { id: 'out', type: 'helper' },
      ),
    );
    const [msg] = await waitFor<[{ payload: { totalPowerW: number } }]>(helper.getNode('out'), 'input');
    assert.equal(msg.payload.totalPowerW, 2500);
  });
});
