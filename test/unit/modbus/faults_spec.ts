import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { Reading } from '../../../lib/contracts';
import type { ModbusRequestError } from '../../../lib/modbus/errors';
import type { MeterReadError, PollResult } from '../../../lib/modbus/meter';
import { findProfile } from '../../../lib/modbus/profiles';
import type { DeviceProfile } from '../../../lib/modbus/types';
import { SimulatedMeter } from '../../../sim/modbus-meter';
import { drive, useSimHarness, waitUntil } from './harness';

const profile = (id: string) => findProfile(id) as DeviceProfile;

describe('Modbus faults (simulator over loopback TCP, virtual time)', function () {
  this.timeout(20000);
  const harness = useSimHarness();
  let clock: ManualClock;

  beforeEach(() => {
    clock = new ManualClock();
  });

  it('a unit that never answers does not slow the three others on its bus', async () => {
    const h = harness();
    const server = await h.server({ kind: 'tcp' }, clock);
    const devices = ['eastron-sdm630', 'siemens-pac2200', 'schneider-iem3x5x'];
    devices.forEach((id, index) => {
      server.addUnit(index + 1, new SimulatedMeter(profile(id)));
    });
    // Unit 4 is configured but nothing answers at its address; its profile needs 7 requests a poll.
    const bus = h.bus({
      name: 'main',
      transport: { kind: 'tcp', host: '127.0.0.1', port: server.port },
      clock,
      timeoutMs: 1000,
    });
    const readings = new Map<string, Reading[]>();
    const failures: MeterReadError[] = [];
    const meters = [...devices, 'carlo-gavazzi-em24'].map((id, index) => {
      const meter = h.meter({
        name: id,
        bus,
        profile: profile(id),
        unitId: index + 1,
        pollIntervalMs: 1000,
        clock,
      });
      readings.set(id, []);
      meter.on('reading', (result: PollResult) => readings.get(id)?.push(result.reading));
      meter.on('failed', (error: MeterReadError) => failures.push(error));
      return meter;
    });
    const sentToDead: number[] = [];
    bus.on('sent', (request: { unitId: number }) => {
      if (request.unitId === 4) sentToDead.push(clock.now());
    });
    for (const meter of meters) meter.start();
    await drive(clock, [bus], [server], 30000, 20);

    for (const id of devices) {
      const times = (readings.get(id) ?? []).map((r) => Date.parse(r.timestamp));
      assert.ok(times.length >= 29, `${id}: ${times.length} readings in 30 s`);
      const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
      assert.ok(Math.max(...gaps) <= 2000, `${id}: longest gap ${Math.max(...gaps)} ms`);
    }
    assert.equal(readings.get('carlo-gavazzi-em24')?.length, 0);
    assert.ok(meters[3]?.isStale);
    // Backed off on its own: a handful of 1 s timeouts in 30 s, not 7 per second.
    assert.ok(sentToDead.length <= 8, `${sentToDead.length} requests to the dead unit`);
    assert.match(
      failures[0]?.message ?? '',
      /meter "carlo-gavazzi-em24" \(unit 4 on bus "main"\): .*no answer within 1000 ms/,
    );
    assert.equal(bus.stats.connects, 1, 'a silent unit never makes the bus reconnect');
  });

  it('a server that drops the connection mid-poll: reconnect, nothing lost, nothing twice', async () => {
    const h = harness();
    const server = await h.server({ kind: 'tcp' }, clock);
    const simulated = new SimulatedMeter(profile('eastron-sdm630'), { values: { importWh: 1000 } });
    server.addUnit(1, simulated);
    const bus = h.bus({
      name: 'main',
      transport: { kind: 'tcp', host: '127.0.0.1', port: server.port },
      clock,
    });
    const meter = h.meter({
      name: 'grid',
      bus,
      profile: profile('eastron-sdm630'),
      unitId: 1,
      pollIntervalMs: 1000,
      clock,
    });
    assert.equal(meter.plan?.length, 2);
    const energy: number[] = [];
    let polls = 0;
    meter.on('reading', (result: PollResult) => {
      energy.push(result.reading.importWh ?? Number.NaN);
      polls += 1;
      // Every poll sees a new counter value, so a lost or repeated poll would show.
      simulated.set({ importWh: 1000 + polls * 10 });
    });
    let answeredFirstBlocks = 0;
    server.on('answered', (request: { address: number }) => {
      if (request.address !== 0) return;
      answeredFirstBlocks += 1;
      // Poll 3: the first request was answered; the connection breaks on the second.
      if (answeredFirstBlocks === 3) server.faults(1).dropConnectionOnRequests = 1;
    });
    meter.start();
    await drive(clock, [bus], [server], 10000, 10);

    assert.equal(bus.stats.connectionsLost, 1);
    assert.equal(bus.stats.connects, 2);
    assert.deepEqual(
      energy,
      energy.map((_, index) => 1000 + index * 10),
      'each poll once, in order',
    );
    assert.ok(energy.length >= 9, `${energy.length} readings in 10 s`);
    assert.equal(meter.skippedPolls, 0);
  });

  it('a device answering an exception: the rest of the reading arrives, the error names meter, registers and bus', async () => {
    const h = harness();
    const server = await h.server({ kind: 'tcp' }, clock);
    server.addUnit(1, new SimulatedMeter(profile('carlo-gavazzi-em24')));
    server.faults(1).exception = { code: 2, from: 0x5c, to: 0x5d };
    const bus = h.bus({
      name: 'RS485 gateway',
      transport: { kind: 'tcp', host: '127.0.0.1', port: server.port },
      clock,
    });
    const meter = h.meter({
      name: 'Grid',
      bus,
      profile: profile('carlo-gavazzi-em24'),
      unitId: 1,
      pollIntervalMs: 0,
      clock,
    });
    const { reading, errors } = await meter.readNow();
    assert.equal(reading.exportWh, undefined);
    assert.equal(reading.totalPowerW, 3550);
    assert.deepEqual(
      errors.map((e) => e.message),
      [
        'meter "Grid" (unit 1 on bus "RS485 gateway"): exportEnergy (FC4 92-93): exception 2 (illegal data address)',
      ],
    );
    assert.equal(meter.state, 'partial');
  });

  it('a corrupt answer fails that request only, with a clear error', async () => {
    const h = harness();
    const server = await h.server({ kind: 'tcp' }, clock);
    server.addUnit(1, new SimulatedMeter(profile('janitza-umg604')));
    server.faults(1).corruptAnswers = 1;
    const bus = h.bus({
      name: 'main',
      transport: { kind: 'tcp', host: '127.0.0.1', port: server.port },
      clock,
    });
    const meter = h.meter({
      name: 'UMG',
      bus,
      profile: profile('janitza-umg604'),
      unitId: 1,
      pollIntervalMs: 0,
      clock,
    });
    const failure = await meter.readNow().then(
      () => undefined,
      (error: Error) => error,
    );
    assert.match(
      failure?.message ?? '',
      /meter "UMG" \(unit 1 on bus "main"\): voltageL1, .* \(FC3 19000-19077\): unusable answer: Data length error/,
    );
    // The same as data, for a stale notice in the user's language (issue 48).
    const fault = (failure?.cause as ModbusRequestError | undefined)?.fault;
    assert.equal(fault?.kind, 'unusable');
    assert.equal(fault?.kind === 'unusable' ? fault.cause?.kind : undefined, 'badLength');
    const { reading } = await meter.readNow();
    assert.equal(reading.frequencyHz, 50.01);
  });

  it('a slow gateway: waits the pause after connecting, takes its time, and a late answer never lands on the next request', async () => {
    const h = harness();
    const server = await h.server({ kind: 'tcp' }, clock);
    const simulated = new SimulatedMeter(profile('huawei-sun2000-meter'), { values: { totalPowerW: -1500 } });
    server.addUnit(1, simulated);
    server.faults(1).delayMs = 3000;
    const bus = h.bus({
      name: 'SDongle',
      transport: { kind: 'tcp', host: '127.0.0.1', port: server.port },
      clock,
    });
    let connectedAt = 0;
    bus.on('state', (state: string) => {
      if (state === 'connected') connectedAt = clock.now();
    });
    const firstSent: number[] = [];
    bus.on('sent', () => firstSent.push(clock.now()));
    // The profile asks for a 5 s timeout and a 1 s pause after connecting (Huawei SDongle).
    const meter = h.meter({
      name: 'grid',
      bus,
      profile: profile('huawei-sun2000-meter'),
      unitId: 1,
      pollIntervalMs: 0,
      clock,
    });
    const first = meter.readNow();
    await drive(clock, [bus], [server], 4100, 50);
    const { reading } = await first;
    assert.equal(reading.totalPowerW, -1500);
    assert.ok((firstSent[0] ?? 0) - connectedAt >= 1000, 'no request before the pause is over');

    // Now slower than the timeout: the request fails, its late answer is dropped.
    server.faults(1).delayMs = 6000;
    const late = meter.readNow();
    late.catch(() => undefined);
    await drive(clock, [bus], [server], 5050, 50);
    await assert.rejects(late, /no answer within 5000 ms/);
    server.faults(1).delayMs = 100;
    simulated.set({ totalPowerW: -2500 });
    const next = meter.readNow();
    await drive(clock, [bus], [server], 2000, 50);
    assert.equal((await next).reading.totalPowerW, -2500, 'its own answer, not the late one');
  });

  it('a full queue refuses at once with a message naming meter and bus; nothing hangs', async () => {
    const h = harness();
    const server = await h.server({ kind: 'tcp' }, clock);
    const port = server.port;
    await server.stop();
    const bus = h.bus({
      name: 'main',
      transport: { kind: 'tcp', host: '127.0.0.1', port },
      clock,
      maxQueueLength: 3,
      maxWaitMs: 5000,
    });
    const outcomes: (PollResult | MeterReadError)[] = [];
    for (let unitId = 1; unitId <= 5; unitId++) {
      // One request per poll (Janitza): three wait, two are refused.
      const meter = h.meter({
        name: `m${unitId}`,
        bus,
        profile: profile('janitza-umg604'),
        unitId,
        pollIntervalMs: 0,
        clock,
      });
      meter.readNow().then(
        (result) => outcomes.push(result),
        (error: MeterReadError) => outcomes.push(error),
      );
    }
    await waitUntil(() => outcomes.length >= 2, 'the overflow is refused');
    const refused = outcomes.map((o) => (o as MeterReadError).message);
    assert.ok(
      refused.every((m) => /queue is full/.test(m)),
      refused.join('\n'),
    );
    assert.match(refused[0] ?? '', /^meter "m\d" \(unit \d on bus "main"\): /);
    await drive(clock, [bus], [], 5000, 100);
    await waitUntil(() => outcomes.length === 5, 'every read has ended');
    const waited = outcomes.slice(2).map((o) => (o as MeterReadError).message);
    assert.ok(
      waited.every((m) => /not connected \(.*ECONNREFUSED.*\); waited 5000 ms/.test(m)),
      waited.join('\n'),
    );
  });
});
