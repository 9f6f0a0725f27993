import assert from 'node:assert/strict';
import { findProfile } from '../../../lib/modbus/profiles';
import type { DeviceProfile } from '../../../lib/modbus/types';
import { SimulatedMeter, type SunSpecServing } from '../../../lib/sim/modbus-meter';
import { useSimHarness } from './harness';

describe('SunSpec discovery', () => {
  const harness = useSimHarness();

  async function discover(id: string, serving: SunSpecServing) {
    const h = harness();
    const server = await h.server();
    const profile = findProfile(id) as DeviceProfile;
    server.addUnit(126, new SimulatedMeter(profile, { sunspec: serving, values: { totalPowerW: -4200 } }));
    const bus = h.bus({ name: 'pv', transport: { kind: 'tcp', host: '127.0.0.1', port: server.port } });
    const requests: { address: number; quantity: number }[] = [];
    server.on('request', (request) => requests.push(request));
    const meter = h.meter({ name: 'pv', bus, profile, unitId: 126, pollIntervalMs: 0 });
    const result = await meter.readNow();
    return { meter, result, requests, server };
  }

  it('finds "SunS" at 40000, walks past other models to the meter model, reads value and SF in one request', async () => {
    const { meter, result, requests } = await discover('sunspec-meter', {
      model: 203,
      before: [{ id: 120, length: 26 }],
    });
    assert.equal(result.reading.totalPowerW, -4200);
    assert.match(meter.resolvedProfile?.name ?? '', /model 203 at 40098/);
    assert.deepEqual(
      requests.slice(0, 5).map((r) => r.address),
      [40000, 40002, 40070, 40098, 40205],
      'marker, common model, nameplate, meter model, end marker',
    );
    assert.equal(meter.plan?.length, 1, 'the whole meter in one request');
    const read = requests.at(-1);
    const power = meter.resolvedProfile?.registers.find((r) => r.measurand === 'powerTotal');
    assert.ok(read && power?.scaleFactorAddress !== undefined);
    assert.ok(read.address <= power.address && power.scaleFactorAddress < read.address + read.quantity);
  });

  it('tries 50000 and then 0 when 40000 has no marker', async () => {
    for (const base of [50000, 0]) {
      const { result, requests } = await discover('sunspec-inverter', { base, model: 113 });
      assert.equal(result.reading.totalPowerW, -4200);
      assert.ok(requests.some((r) => r.address === base));
      await harness().close();
    }
  });

  it('stops the walk at exception 2 when a device has no end marker (some SMA)', async () => {
    const { result } = await discover('sma-sunspec-inverter', { model: 103, endMarker: false });
    assert.equal(result.reading.totalPowerW, -4200);
  });

  it('reads the float and the int+SF variants of the same device alike (Fronius setting)', async () => {
    const floats = await discover('fronius-sunspec-meter', { model: 213 });
    await harness().close();
    const integers = await discover('fronius-sunspec-meter', { model: 203 });
    const { timestamp: _a, ...a } = floats.result.reading;
    const { timestamp: _b, ...b } = integers.result.reading;
    assert.deepEqual(a, b);
  });

  it('discovers again when the model map moved (firmware update): exception 2, then the new place', async () => {
    const { meter, server } = await discover('sunspec-meter', { model: 203 });
    server.removeUnit(126);
    server.addUnit(
      126,
      new SimulatedMeter(findProfile('sunspec-meter') as DeviceProfile, {
        sunspec: { base: 50000, model: 213 },
        values: { totalPowerW: 1234 },
      }),
    );
    const moved = await meter.readNow().then(
      () => assert.fail('the old addresses are gone'),
      (error: Error) => error,
    );
    assert.match(moved.message, /exception 2/);
    const { reading } = await meter.readNow();
    assert.equal(reading.totalPowerW, 1234);
    assert.match(meter.resolvedProfile?.name ?? '', /model 213 at 50070/);
  });

  it('says which models the device has when none fits', async () => {
    await assert.rejects(
      discover('sunspec-meter', { model: 103 }),
      /none of the SunSpec models 203, 213.*\(it has 1, 103\)/,
    );
  });

  it('names the unit when there is no SunSpec device at all', async () => {
    const h = harness();
    const server = await h.server();
    const bus = h.bus({
      name: 'pv',
      transport: { kind: 'tcp', host: '127.0.0.1', port: server.port },
      timeoutMs: 200,
    });
    server.addUnit(1, new SimulatedMeter(findProfile('eastron-sdm630') as DeviceProfile));
    server.faults(1).exception = { code: 11 };
    const meter = h.meter({
      name: 'inverter',
      bus,
      profile: findProfile('sunspec-inverter') as DeviceProfile,
      unitId: 1,
      pollIntervalMs: 0,
    });
    await assert.rejects(
      meter.readNow(),
      /meter "inverter" \(unit 1 on bus "pv"\): SunSpec discovery: no SunSpec marker found \(40000: exception 11 \(gateway target did not respond\); 50000: .*; 0: unit not answering.*\); check the unit id/,
    );
  });
});
