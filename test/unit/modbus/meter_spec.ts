import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import { ConfigError } from '../../../lib/config-error';
import type { Reading } from '../../../lib/contracts';
import { faultWords, staleWords } from '../../../lib/dlm/evidence/circuit-view';
import { english, sayReason } from '../../../lib/dlm/words';
import { ModbusBus } from '../../../lib/modbus/bus';
import { Meter, type MeterReadError, type PollResult } from '../../../lib/modbus/meter';
import { findProfile } from '../../../lib/modbus/profiles';
import type { DeviceProfile } from '../../../lib/modbus/types';
import { SimulatedMeter } from '../../../sim/modbus-meter';
import { englishWordsIn } from '../../support/words';
import { drive, FakeConnector, flush, useSimHarness } from './harness';

const profile = (id: string) => findProfile(id) as DeviceProfile;

/**
 * A meter that failed reads, as the load manager words its `msg.staleCause` (issue 48): the
 * failure's data in English is the meter's own text, in German without an English word.
 */
function assertWordedInBoth(meter: Meter): void {
  const failed =
    meter.staleCause && 'readsFailed' in meter.staleCause ? meter.staleCause.readsFailed : undefined;
  assert.ok(failed?.fault, JSON.stringify(meter.staleCause));
  assert.equal(english([faultWords(failed.fault)]), failed.error);
  const german = sayReason([staleWords({ why: meter.staleReason, cause: meter.staleCause })], 'de');
  assert.deepEqual(englishWordsIn(german), [], german);
}

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

  it('reports stale at the second timeout in a row (before its stale timeout), and fresh again when the meter answers', async () => {
    const { bus, server, meter, readings, stale, failures } = await setUp('eastron-sdm630', {
      pollIntervalMs: 1000,
      staleAfterMs: 3000,
    });
    meter.start();
    await drive(clock, [bus], [server], 1500, 10);
    assert.equal(readings.length, 2);
    server.faults(1).silent = true;
    // The poll at 2.0 s: both its requests time out (2.3 s, 2.6 s), so the bus backs the unit off
    // (2 failures in a row); the poll at 3.0 s is refused at once: bad news, stale.
    await drive(clock, [bus], [server], 1490, 10);
    assert.equal(stale.length, 0, 'not yet at 2.99 s: one timeout per value is no bad news');
    await drive(clock, [bus], [server], 20, 10);
    assert.equal(
      stale.length,
      1,
      'at 3.0 s, when the unit is backed off (the 3 s timer would say so at 4.0 s)',
    );
    assert.match(
      meter.staleReason ?? '',
      /^unit not answering \(2 failures in a row; last: no answer within 300 ms\)/,
    );
    // The same as data: the unit backed off after its second timeout.
    const failed =
      meter.staleCause && 'readsFailed' in meter.staleCause ? meter.staleCause.readsFailed : undefined;
    assert.deepEqual(failed?.fault && { ...failed.fault, nextS: 0 }, {
      kind: 'backedOff',
      failures: 2,
      nextS: 0,
      last: { kind: 'timeout', ms: 300 },
    });
    assertWordedInBoth(meter);
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

  it('refuses a cap on registers per request below what a value and its scale factor span, naming meter and field', async () => {
    const { bus } = await setUp('janitza-umg604', { pollIntervalMs: 0 });
    const scaled: DeviceProfile = {
      ...profile('janitza-umg604'),
      id: 'scaled',
      registers: [
        { measurand: 'powerTotal', address: 100, type: 'int16', unit: 'W', scaleFactorAddress: 130 },
      ],
    };
    assert.throws(
      () =>
        new Meter({ name: 'PV roof', bus, profile: scaled, unitId: 1, maxRegistersPerRequest: 20, clock }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.field === 'maxRegistersPerRequest' &&
        /^maxRegistersPerRequest: meter "PV roof": 20 is too few: powerTotal at 100 and its scale factor at 130 must be read in one request of 31 registers/.test(
          error.message,
        ),
    );
    assert.equal(
      new Meter({ name: 'ok', bus, profile: scaled, unitId: 1, maxRegistersPerRequest: 31, clock }).plan?.[0]
        ?.quantity,
      31,
    );
  });

  it('SunSpec model 701 (values 107 registers from their scale factors) with a cap of 60: the poll fails naming the field', async () => {
    const h = harness();
    const server = await h.server({ kind: 'tcp' }, clock);
    const inverter = profile('sunspec-inverter');
    server.addUnit(1, new SimulatedMeter(inverter, { sunspec: { model: 701 } }));
    const bus = h.bus({
      name: 'pv',
      transport: { kind: 'tcp', host: '127.0.0.1', port: server.port },
      clock,
    });
    let largest = 0;
    server.on('request', (request: { quantity: number }) => {
      largest = Math.max(largest, request.quantity);
    });
    const meter = h.meter({
      name: 'PV',
      bus,
      profile: inverter,
      unitId: 1,
      pollIntervalMs: 0,
      maxRegistersPerRequest: 60,
      clock,
    });
    const failed = meter.readNow();
    failed.catch(() => undefined);
    await drive(clock, [bus], [server], 100, 10);
    await assert.rejects(
      failed,
      /^MeterReadError: meter "PV" \(unit 1 on bus "pv"\): maxRegistersPerRequest: 60 is too few: .* must be read in one request of \d+ registers/,
    );
    assert.ok(largest <= 60, `a request of ${largest} registers went out`);
  });

  it("raises a poll interval below the profile's minimum (Huawei: 2 s) and says so", async () => {
    const { bus } = await setUp('janitza-umg604', { pollIntervalMs: 0 });
    const huawei = new Meter({
      name: 'inverter',
      bus,
      profile: profile('huawei-sun2000-inverter'),
      unitId: 1,
      pollIntervalMs: 1000,
      clock,
    });
    assert.equal(huawei.pollIntervalMs, 2000);
    assert.equal(huawei.staleAfterMs, 6000, 'three of the intervals it really polls at');
    assert.deepEqual(huawei.warnings, [
      'meter "inverter": poll interval raised from 1 s to 2 s, the shortest the Huawei SUN2000 inverter (native) profile allows',
    ]);
    const onDemand = new Meter({
      name: 'x',
      bus,
      profile: profile('huawei-sun2000-meter'),
      unitId: 1,
      pollIntervalMs: 0,
      clock,
    });
    assert.equal(onDemand.pollIntervalMs, 0);
    assert.deepEqual(onDemand.warnings, []);
  });

  it('goes stale when one block fails every poll although the others answer; fresh again once every value is read', async () => {
    const { bus, server, meter, readings, stale } = await setUp('eastron-sdm630', {
      pollIntervalMs: 1000,
      staleAfterMs: 3000,
    });
    assert.deepEqual(
      meter.plan?.map((block) => `${block.address}+${block.quantity}`),
      ['0+54', '70+6'],
    );
    // Voltages, currents and powers (0-53) fail from the first poll on; energy (70-75) answers.
    server.faults(1).exception = { code: 4, from: 0, to: 53 };
    meter.start();
    await drive(clock, [bus], [server], 990, 10);
    assert.equal(stale.length, 0, 'one exception is no bad news yet');
    await drive(clock, [bus], [server], 2110, 10);
    assert.ok(readings.length >= 3, 'partial readings keep coming');
    assert.equal(meter.state, 'partial');
    assert.equal(stale.length, 1, 'stale: the currents failed twice in a row (at 1 s, before the 3 s timer)');
    assert.ok(meter.isStale);
    assert.ok(meter.staleValues.includes('currentL1/import'));
    const failed =
      meter.staleCause && 'readsFailed' in meter.staleCause ? meter.staleCause.readsFailed : undefined;
    assert.equal(failed?.error, 'exception 4 (device failure)');
    assert.deepEqual(failed?.fault, { kind: 'exception', code: 4 });
    assertWordedInBoth(meter);
    assert.ok(!meter.staleValues.includes('importEnergy/import'));
    await drive(clock, [bus], [server], 3000, 10);
    assert.equal(stale.length, 1, 'reported once');
    server.faults(1).exception = undefined;
    await drive(clock, [bus], [server], 1000, 10);
    assert.equal(meter.isStale, false);
    assert.equal(meter.state, 'ok');
  });

  it('stays fresh while each value is read within the timeout, even if no poll brings all of them', async () => {
    const { bus, server, meter, stale } = await setUp('eastron-sdm630', {
      pollIntervalMs: 1000,
      staleAfterMs: 3000,
    });
    // Every other poll loses the first block, the others the second.
    let polls = 0;
    server.on('request', (request: { address: number }) => {
      if (request.address !== 0) return;
      polls += 1;
      server.faults(1).exception = polls % 2 ? { code: 4, from: 0, to: 53 } : { code: 4, from: 70, to: 75 };
    });
    meter.start();
    await drive(clock, [bus], [server], 10000, 10);
    assert.ok(polls >= 9);
    assert.equal(stale.length, 0);
    assert.equal(meter.isStale, false);
  });
});

describe('Meter reading timestamps', () => {
  const profile630 = profile('eastron-sdm630');
  /** float32 words of `value`, for `quantity` registers. */
  const floats = (quantity: number, value: number) => {
    const words: number[] = [];
    for (let i = 0; i < quantity / 2; i++) {
      const bytes = Buffer.alloc(4);
      bytes.writeFloatBE(value);
      words.push(bytes.readUInt16BE(0), bytes.readUInt16BE(2));
    }
    return words;
  };

  async function splitPoll(staleAfterMs: number) {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const connector = new FakeConnector();
    const bus = new ModbusBus({
      name: 'b',
      transport: { kind: 'tcp', host: 'x', port: 1 },
      clock,
      connector,
      reconnect: { initialMs: 20000, maxMs: 20000 },
    });
    const meter = new Meter({
      name: 'grid',
      bus,
      profile: profile630,
      unitId: 1,
      pollIntervalMs: 0,
      staleAfterMs,
      clock,
    });
    const result = meter.readNow();
    await flush();
    // Block 1 (voltages, currents, powers) answered at 12:00:00 with 40 A on every phase...
    connector.latest?.answer(floats(54, 40));
    await flush();
    // ...then the connection breaks while block 2 is on the wire; it is answered at 12:00:20.
    connector.drop();
    await flush();
    clock.advance(20000);
    await flush();
    connector.latest?.answer(floats(6, 50));
    const poll = await result;
    await bus.close();
    return poll;
  }

  it('stamps a reading with the time its EARLIEST part was answered, not the last', async () => {
    const { reading, errors } = await splitPoll(60000);
    assert.deepEqual(reading.currentA, [40, 40, 40]);
    assert.equal(reading.frequencyHz, 50);
    assert.equal(reading.timestamp, '2026-01-01T12:00:00.000Z');
    assert.deepEqual(errors, []);
  });

  it('leaves out a part answered longer than the stale timeout before the rest, rather than mixing it in', async () => {
    const { reading, errors } = await splitPoll(10000);
    assert.deepEqual(reading.currentA, [null, null, null]);
    assert.equal(reading.totalPowerW, undefined);
    assert.equal(reading.frequencyHz, 50);
    assert.equal(reading.timestamp, '2026-01-01T12:00:20.000Z');
    assert.match(
      errors[0]?.message ?? '',
      /^meter "grid" \(unit 1 on bus "b"\): voltageL1, .* \(FC4 0-53\): answered 20 s before the rest of the poll, longer than the stale timeout \(10 s\): left out$/,
    );
  });
});
