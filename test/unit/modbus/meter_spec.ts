import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import { ConfigError } from '../../../lib/config-error';
import type { Reading } from '../../../lib/contracts';
import { Meter, type MeterReadError, type PollResult } from '../../../lib/modbus/meter';
import { findProfile } from '../../../lib/modbus/profiles';
import type { DeviceProfile } from '../../../lib/modbus/types';
import { SimulatedMeter } from '../../../lib/sim/modbus-meter';
import { drive, useSimHarness } from './harness';

const profile = (id: string) => findProfile(id) as DeviceProfile;

describe('Meter polling', () => {
  const harness = useSimHarness();
  let clock: ManualClock;

  beforeEach(() => {
    clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  });

  async function setUp(id = 'eastron-sdm630', options: Partial<ConstructorParameters<typeof Meter>[0]> = {}) {
    const h = harness();
    const server = await h.server({ kind: 'tcp' }, clock);
    const simulated = new SimulatedMeter(profile(id));
    server.addUnit(1, simulated);
    const bus = h.bus({
      name: 'main',
      transport: { kind: 'tcp', host: '127.0.0.1', port: server.port },
      clock,
      timeoutMs: 300,
    });
    const meter = h.meter({ name: 'grid', bus, profile: profile(id), unitId: 1, clock, ...options });
    const readings: Reading[] = [];
    const failures: MeterReadError[] = [];
    const stale: (Reading | undefined)[] = [];
    meter.on('reading', (result: PollResult) => readings.push(result.reading));
    meter.on('failed', (error: MeterReadError) => failures.push(error));
    meter.on('stale', (last: Reading | undefined) => stale.push(last));
    return { server, simulated, bus, meter, readings, failures, stale };
  }

  it('polls at its interval and stamps each reading with the time it was read', async () => {
    const { bus, server, meter, readings } = await setUp('eastron-sdm630', { pollIntervalMs: 250 });
    meter.start();
    await drive(clock, [bus], [server], 1000, 10);
    assert.deepEqual(
      readings.map((r) => r.timestamp),
      ['12:00:00.000', '12:00:00.250', '12:00:00.500', '12:00:00.750', '12:00:01.000'].map(
        (t) => `2026-01-01T${t}Z`,
      ),
    );
  });

  it('reports stale once its data is older than the stale timeout, and fresh again when the meter answers', async () => {
    const { bus, server, meter, readings, stale, failures } = await setUp('eastron-sdm630', {
      pollIntervalMs: 1000,
      staleAfterMs: 3000,
    });
    meter.start();
    await drive(clock, [bus], [server], 1500, 10);
    assert.equal(readings.length, 2);
    server.faults(1).silent = true;
    await drive(clock, [bus], [server], 2400, 10);
    assert.equal(stale.length, 0, 'not yet: the last reading is 2.9 s old');
    await drive(clock, [bus], [server], 200, 10);
    assert.equal(stale.length, 1);
    assert.equal(
      stale[0]?.timestamp,
      readings[1]?.timestamp,
      'the stale event carries the last good reading',
    );
    assert.ok(meter.isStale);
    assert.equal(meter.state, 'failing');
    assert.ok(failures.length >= 2);
    server.faults(1).silent = false;
    await drive(clock, [bus], [server], 70000, 100);
    assert.equal(meter.isStale, false);
    assert.equal(meter.state, 'ok');
  });

  it('reads on demand, joining a poll in progress rather than asking twice', async () => {
    const { bus, server, meter, readings } = await setUp('janitza-umg604', { pollIntervalMs: 1000 });
    server.faults(1).delayMs = 100;
    meter.start();
    const onDemand = meter.readNow();
    await drive(clock, [bus], [server], 150, 10);
    const { reading } = await onDemand;
    assert.equal(readings.length, 1);
    assert.equal(reading, readings[0]);
    assert.equal(server.requestCounts.get(1), 1);
  });

  it('skips a tick while its previous poll still runs, so a slow device never piles up requests', async () => {
    const { bus, server, meter, readings } = await setUp('janitza-umg604', { pollIntervalMs: 1000 });
    // 250 ms per answer: a 1 s poll has time to spare.
    server.faults(1).delayMs = 250;
    meter.start();
    await drive(clock, [bus], [server], 3000, 10);
    assert.equal(meter.skippedPolls, 0);
    assert.equal(readings.length, 3, 'polls at 0, 1 and 2 s answered by 3 s');
    // A second meter on the same device asks every 200 ms: more than the device can answer.
    const fastMeter = harness().meter({
      name: 'fast',
      bus,
      profile: profile('janitza-umg604'),
      unitId: 1,
      pollIntervalMs: 200,
      clock,
    });
    let fastReadings = 0;
    fastMeter.on('reading', () => {
      fastReadings += 1;
    });
    let longestQueue = 0;
    bus.on('sent', () => {
      longestQueue = Math.max(longestQueue, bus.queueLength);
    });
    fastMeter.start();
    await drive(clock, [bus], [server], 3000, 10);
    assert.ok(fastMeter.skippedPolls >= 5, `${fastMeter.skippedPolls} skipped`);
    assert.ok(fastReadings >= 5);
    assert.ok(longestQueue <= 1, `queue grew to ${longestQueue}`);
  });

  it("tells a broken connection (the bus's problem) from a device error, also during SunSpec discovery", async () => {
    const h = harness();
    const server = await h.server({ kind: 'tcp' }, clock);
    server.addUnit(126, new SimulatedMeter(profile('sma-sunspec-inverter')));
    server.faults(126).dropConnectionOnRequests = 2;
    const bus = h.bus({
      name: 'pv',
      transport: { kind: 'tcp', host: '127.0.0.1', port: server.port },
      clock,
    });
    const meter = h.meter({
      name: 'PV',
      bus,
      profile: profile('sma-sunspec-inverter'),
      unitId: 126,
      pollIntervalMs: 0,
      clock,
    });
    const failed = meter.readNow();
    failed.catch(() => undefined);
    await drive(clock, [bus], [server], 2000, 10);
    const error = await failed.then(
      () => assert.fail('expected a failure'),
      (e: MeterReadError) => e,
    );
    assert.match(error.message, /SunSpec discovery: .*the connection broke twice during this request/);
    assert.equal(error.busProblem, true);
    server.faults(126).exception = { code: 2 };
    const rejected = await meter.readNow().then(
      () => assert.fail('expected a failure'),
      (e: MeterReadError) => e,
    );
    assert.equal(rejected.busProblem, false);
  });

  it('polls only on demand with interval 0, and refuses intervals under 200 ms', async () => {
    const { bus, server, meter, readings } = await setUp('janitza-umg604', { pollIntervalMs: 0 });
    meter.start();
    await drive(clock, [bus], [server], 5000, 100);
    assert.equal(readings.length, 0);
    assert.equal(server.requestCounts.get(1) ?? 0, 0);
    assert.throws(
      () => new Meter({ name: 'x', bus, profile: profile('janitza-umg604'), unitId: 1, pollIntervalMs: 100 }),
      (error: unknown) => error instanceof ConfigError && error.field === 'pollInterval',
    );
  });

  it('splits requests further when the device answers fewer registers than its profile says', async () => {
    const { meter } = await setUp('eastron-sdm630', { maxRegistersPerRequest: 10, pollIntervalMs: 0 });
    assert.equal(meter.plan?.length, 4);
    assert.ok(meter.plan?.every((block) => block.quantity <= 10));
    const { reading } = await meter.readNow();
    assert.equal(reading.totalPowerW, 3550);
  });
});
