import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../lib/clock';
import type { BusTransport } from '../../../lib/modbus/connection';
import type { PollResult } from '../../../lib/modbus/meter';
import { findProfile } from '../../../lib/modbus/profiles';
import type { DeviceProfile } from '../../../lib/modbus/types';
import { SimulatedMeter } from '../../../sim/modbus-meter';
import { openPtyPair, type PtyPair } from '../../support/pty';
import { drive, useSimHarness, waitUntil } from './harness';

const profile = (id: string) => findProfile(id) as DeviceProfile;

describe('Modbus RTU through a pseudo-terminal pair (socat)', function () {
  this.timeout(20000);
  const harness = useSimHarness();
  let pty: PtyPair | undefined;
  let replugDir: string | undefined;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock();
    pty = await openPtyPair();
  });

  // Runs after the harness's own hook (registered first) has closed buses and simulators.
  afterEach(async () => {
    await pty?.close();
    pty = undefined;
    if (replugDir) rmSync(replugDir, { recursive: true, force: true });
    replugDir = undefined;
  });

  const serial = (path: string): BusTransport => ({
    kind: 'rtu',
    path,
    baudRate: 19200,
    dataBits: 8,
    parity: 'even',
    stopBits: 1,
  });

  it('reads two meters sharing one serial line, each by its address', async () => {
    const h = harness();
    const line = await h.server({ kind: 'rtu', path: pty?.b ?? '', baudRate: 19200, parity: 'even' }, clock);
    line.addUnit(1, new SimulatedMeter(profile('eastron-sdm630'), { values: { totalPowerW: 4200 } }));
    line.addUnit(2, new SimulatedMeter(profile('schneider-iem3x5x'), { values: { totalPowerW: -800 } }));
    const bus = h.bus({ name: 'RS485', transport: serial(pty?.a ?? ''), clock });
    const grid = h.meter({
      name: 'grid',
      bus,
      profile: profile('eastron-sdm630'),
      unitId: 1,
      pollIntervalMs: 1000,
      clock,
    });
    const pv = h.meter({
      name: 'pv',
      bus,
      profile: profile('schneider-iem3x5x'),
      unitId: 2,
      pollIntervalMs: 1000,
      clock,
    });
    const readings: PollResult[] = [];
    for (const meter of [grid, pv]) {
      meter.on('reading', (result: PollResult) => readings.push(result));
      meter.start();
    }
    await drive(clock, [bus], [line], 3000, 10);
    const last = (name: string) => readings.filter((r) => r.reading.source === name).at(-1)?.reading;
    assert.equal(last('grid')?.totalPowerW, 4200);
    assert.equal(last('pv')?.totalPowerW, -800);
    assert.deepEqual(last('pv')?.voltageV, [230.1, 231.2, 229.8]);
    assert.ok(readings.length >= 6);
  });

  it('a CRC error fails that request with an error naming meter, registers and bus; the next poll is fine', async () => {
    const h = harness();
    const line = await h.server({ kind: 'rtu', path: pty?.b ?? '' }, clock);
    line.addUnit(5, new SimulatedMeter(profile('janitza-umg604')));
    line.faults(5).corruptAnswers = 1;
    const bus = h.bus({ name: 'RS485 cellar', transport: serial(pty?.a ?? ''), clock });
    const meter = h.meter({
      name: 'UMG cellar',
      bus,
      profile: profile('janitza-umg604'),
      unitId: 5,
      pollIntervalMs: 0,
      clock,
    });
    await assert.rejects(
      meter.readNow(),
      /^MeterReadError: meter "UMG cellar" \(unit 5 on bus "RS485 cellar"\): voltageL1, .*exportEnergy \(FC3 19000-19077\): unusable answer: CRC error$/,
    );
    // The framing may be out of step after a corrupt answer: the line is drained (1 s of silence,
    // the timeout) before the next request, and what came meanwhile is discarded.
    const sentAt: number[] = [];
    bus.on('sent', () => sentAt.push(clock.now()));
    const corruptAt = clock.now();
    const next = meter.readNow();
    await drive(clock, [bus], [line], 1100, 10);
    assert.equal((await next).reading.totalPowerW, 3550);
    assert.equal(bus.stats.drains, 1);
    assert.deepEqual(
      sentAt.map((at) => at - corruptAt),
      [1000],
    );
  });

  it('an exception answer names the Modbus exception', async () => {
    const h = harness();
    const line = await h.server({ kind: 'rtu', path: pty?.b ?? '' }, clock);
    line.addUnit(2, new SimulatedMeter(profile('abb-b23-b24')));
    line.faults(2).exception = { code: 2, from: 0x5000, to: 0x5007 };
    const bus = h.bus({ name: 'RS485', transport: serial(pty?.a ?? ''), clock });
    const meter = h.meter({
      name: 'B23',
      bus,
      profile: profile('abb-b23-b24'),
      unitId: 2,
      pollIntervalMs: 0,
      clock,
    });
    const result = meter.readNow();
    await drive(clock, [bus], [line], 50, 10);
    const { reading, errors } = await result;
    assert.equal(reading.totalPowerW, 3550);
    assert.match(
      errors[0]?.message ?? '',
      /importEnergy, exportEnergy \(FC3 20480-20487\): exception 2 \(illegal data address\)/,
    );
  });

  it('a silent address times out on the serial line without disturbing the next device', async () => {
    const h = harness();
    const line = await h.server({ kind: 'rtu', path: pty?.b ?? '' }, clock);
    line.addUnit(1, new SimulatedMeter(profile('eastron-sdm120')));
    const bus = h.bus({ name: 'RS485', transport: serial(pty?.a ?? ''), clock, timeoutMs: 500 });
    const missing = h.meter({
      name: 'missing',
      bus,
      profile: profile('eastron-sdm120'),
      unitId: 9,
      pollIntervalMs: 0,
      clock,
    });
    const present = h.meter({
      name: 'present',
      bus,
      profile: profile('eastron-sdm120'),
      unitId: 1,
      pollIntervalMs: 0,
      clock,
    });
    const failed = missing.readNow();
    failed.catch(() => undefined);
    const fine = present.readNow();
    // Two requests to the missing unit time out, each followed by 500 ms of drained silence.
    await drive(clock, [bus], [line], 2200, 10);
    await assert.rejects(failed, /meter "missing" \(unit 9 on bus "RS485"\): .*no answer within 500 ms/);
    assert.equal((await fine).reading.totalPowerW, 3550);
    assert.equal(bus.stats.drains, 2);
  });

  it('reopens the serial port after it disappears (adapter unplugged and plugged in again)', async () => {
    const h = harness();
    // Links in a directory of the test's own, so the second socat can put them at the same paths.
    await pty?.close();
    replugDir = mkdtempSync(join(tmpdir(), 'ampflow-replug-'));
    const dir = replugDir;
    pty = await openPtyPair({ dir });
    const path = pty.a;
    const line = await h.server({ kind: 'rtu', path: pty?.b ?? '' }, clock);
    line.addUnit(1, new SimulatedMeter(profile('eastron-sdm120'), { values: { totalPowerW: 100 } }));
    const bus = h.bus({
      name: 'USB RS485',
      transport: serial(path),
      clock,
      reconnect: { initialMs: 100, maxMs: 200 },
    });
    const meter = h.meter({
      name: 'sub',
      bus,
      profile: profile('eastron-sdm120'),
      unitId: 1,
      pollIntervalMs: 0,
      clock,
    });
    const first = meter.readNow();
    await drive(clock, [bus], [line], 50, 10);
    assert.equal((await first).reading.totalPowerW, 100);

    // Unplugged: socat and the simulator go away; the port closes under the bus.
    await line.stop();
    h.servers.splice(h.servers.indexOf(line), 1);
    await pty.close();
    await waitUntil(() => bus.state === 'waiting', 'the bus notices the port is gone');
    clock.advance(500);
    await waitUntil(() => bus.state === 'waiting', 'reopening fails while unplugged');

    // Plugged in again at the same path.
    pty = await openPtyPair({ dir });
    const again = await h.server({ kind: 'rtu', path: pty.b }, clock);
    again.addUnit(1, new SimulatedMeter(profile('eastron-sdm120'), { values: { totalPowerW: 200 } }));
    const next = meter.readNow();
    await drive(clock, [bus], [again], 1000, 10);
    assert.equal((await next).reading.totalPowerW, 200);
    assert.ok(bus.stats.connects >= 2);
  });
});

describe('Modbus RTU over TCP (serial gateway in transparent mode)', () => {
  const harness = useSimHarness();

  it('reads RTU frames with CRC over a TCP socket', async () => {
    const h = harness();
    const gateway = await h.server({ kind: 'rtu-over-tcp' });
    gateway.addUnit(
      3,
      new SimulatedMeter(profile('carlo-gavazzi-em340'), { values: { totalPowerW: -1234.5 } }),
    );
    const bus = h.bus({
      name: 'gateway',
      transport: { kind: 'rtu-over-tcp', host: '127.0.0.1', port: gateway.port },
    });
    const meter = h.meter({
      name: 'EM340',
      bus,
      profile: profile('carlo-gavazzi-em340'),
      unitId: 3,
      pollIntervalMs: 0,
    });
    const { reading, errors } = await meter.readNow();
    assert.deepEqual(errors, []);
    assert.equal(reading.totalPowerW, -1234.5);
    gateway.faults(3).corruptAnswers = 1;
    const corrupt = await meter.readNow();
    assert.match(
      corrupt.errors[0]?.message ?? '',
      /\(unit 3 on bus "gateway"\): .*: unusable answer: CRC error/,
    );
  });
});
