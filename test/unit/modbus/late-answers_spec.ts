import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { BusTransport } from '../../../lib/modbus/connection';
import type { PollResult } from '../../../lib/modbus/meter';
import { findProfile } from '../../../lib/modbus/profiles';
import type { DeviceProfile } from '../../../lib/modbus/types';
import { SimulatedMeter } from '../../../sim/modbus-meter';
import type { ModbusSimServer, SimRequest, SimTransport, SimulatedUnit } from '../../../sim/modbus-server';
import { openPtyPair, type PtyPair } from '../../support/pty';
import { driveLine, type SimHarness, useSimHarness } from './harness';

const profile = (id: string) => findProfile(id) as DeviceProfile;

/** Every register holds its own address: an answer shows which request it belongs to. */
const addressEcho: SimulatedUnit = {
  read: (_functionCode, address, quantity) => Array.from({ length: quantity }, (_, i) => address + i),
};

/**
 * RTU frames carry no transaction id: an answer is matched to the request on the wire by unit,
 * function code and length alone. A device that answers after its request timed out must never
 * have that answer taken for the next request's (wrong values with a fresh timestamp). The bus
 * keeps the line quiet after a timeout until it has been silent for a while, and discards what
 * came meanwhile. Time is virtual; the line is driven in step with the bytes on it.
 */
for (const kind of ['rtu', 'rtu-over-tcp'] as const) {
  describe(`late answers on ${kind === 'rtu' ? 'Modbus RTU (pseudo-terminal pair)' : 'Modbus RTU over TCP'}`, function () {
    this.timeout(20000);
    const harness = useSimHarness();
    let pty: PtyPair | undefined;
    let clock: ManualClock;

    beforeEach(async () => {
      clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
      if (kind === 'rtu') pty = await openPtyPair();
    });

    // Runs after the harness's own hook (registered first) has closed buses and simulators.
    afterEach(async () => {
      await pty?.close();
      pty = undefined;
    });

    async function line(h: SimHarness): Promise<{ server: ModbusSimServer; transport: BusTransport }> {
      const simTransport: SimTransport =
        kind === 'rtu' ? { kind: 'rtu', path: pty?.b ?? '' } : { kind: 'rtu-over-tcp' };
      const server = await h.server(simTransport, clock);
      const transport: BusTransport =
        kind === 'rtu'
          ? { kind: 'rtu', path: pty?.a ?? '', baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 }
          : { kind: 'rtu-over-tcp', host: '127.0.0.1', port: server.port };
      return { server, transport };
    }

    /** Delays the answer to each request as `delayOf` says (ms on the virtual clock). */
    function delayAnswers(
      server: ModbusSimServer,
      unitId: number,
      delayOf: (request: SimRequest, n: number) => number,
    ) {
      let n = 0;
      server.on('request', (request: SimRequest) => {
        if (request.unitId !== unitId) return;
        server.faults(unitId).delayMs = delayOf(request, n);
        n += 1;
      });
    }

    it('a late answer of the same unit, function code and length is never taken for the next request', async () => {
      const h = harness();
      const { server, transport } = await line(h);
      server.addUnit(1, addressEcho);
      // The first request is answered 100 ms after its timeout; the next one 150 ms after it is sent.
      delayAnswers(server, 1, (request) => (request.address === 0 ? 300 : 150));
      const bus = h.bus({ name: 'line', transport, clock, timeoutMs: 200 });
      const first = bus.read({ unitId: 1, functionCode: 3, address: 0, quantity: 2 });
      first.catch(() => undefined);
      const second = bus.read({ unitId: 1, functionCode: 3, address: 100, quantity: 2 });
      const sentAt: number[] = [];
      bus.on('sent', () => sentAt.push(clock.now()));
      await driveLine(clock, bus, server, 1500);
      await assert.rejects(first, /no answer within 200 ms/);
      assert.deepEqual(await second, [100, 101], 'its own registers, not those of the late answer');
      // Sent once the line had been silent for 250 ms after the late answer (at 300 ms).
      assert.deepEqual(
        sentAt.map((at) => at - Date.UTC(2026, 0, 1, 12)),
        [0, 550],
      );
      assert.equal(bus.stats.drains, 1);
    });

    it('the same block in the next poll brings its own fresh values, not the late answer with a new timestamp', async () => {
      const h = harness();
      const { server, transport } = await line(h);
      const simulated = new SimulatedMeter(profile('janitza-umg604'), { values: { totalPowerW: 1000 } });
      server.addUnit(1, simulated);
      // The first poll's answer (1000 W) comes at 1.1 s, after its 0.9 s timeout, while the next
      // poll's request for the same registers is on the wire; by then the load is 7000 W, and
      // the device takes 200 ms to answer.
      delayAnswers(server, 1, (_request, n) => {
        if (n === 1) simulated.set({ totalPowerW: 7000 });
        return n === 0 ? 1100 : 200;
      });
      const bus = h.bus({ name: 'line', transport, clock });
      const meter = h.meter({
        name: 'grid',
        bus,
        profile: profile('janitza-umg604'),
        unitId: 1,
        pollIntervalMs: 1000,
        timeoutMs: 900,
        clock,
      });
      const readings: PollResult[] = [];
      meter.on('reading', (result: PollResult) => readings.push(result));
      meter.start();
      await driveLine(clock, bus, server, 2500);
      const first = readings[0]?.reading;
      assert.equal(first?.totalPowerW, 7000, 'never the 1000 W the device measured before');
      // Sent after the late answer (1.1 s) and 0.9 s of silence, answered 200 ms later.
      assert.equal(first?.timestamp, '2026-01-01T12:00:02.200Z');
      assert.ok(readings.every((result) => result.reading.totalPowerW === 7000));
    });

    it('EM24: a late answer for the L3 power never becomes the total power', async () => {
      const h = harness();
      const { server, transport } = await line(h);
      const em24 = profile('carlo-gavazzi-em24');
      server.addUnit(
        1,
        new SimulatedMeter(em24, { values: { powerW: [1150, 1400, 9000], totalPowerW: 3550 } }),
      );
      // The L3 power (FC4 22-23) is answered after the 1 s timeout, the total power (40-41) is
      // slow: without a drain the late L3 answer lands on the total power's request.
      delayAnswers(server, 1, (request) =>
        request.address === 22 ? 1100 : request.address === 40 ? 300 : 0,
      );
      const bus = h.bus({ name: 'line', transport, clock });
      const meter = h.meter({ name: 'grid', bus, profile: em24, unitId: 1, pollIntervalMs: 0, clock });
      assert.deepEqual(
        meter.plan?.map((block) => block.address),
        [0, 12, 22, 40, 55, 66, 92],
      );
      const result = meter.readNow();
      await driveLine(clock, bus, server, 3000);
      const { reading, errors } = await result;
      assert.equal(reading.totalPowerW, 3550);
      assert.deepEqual(reading.powerW, [1150, 1400, null]);
      assert.deepEqual(
        errors.map((error) => error.message),
        ['meter "grid" (unit 1 on bus "line"): powerL3 (FC4 22-23): no answer within 1000 ms'],
      );
    });
  });
}
