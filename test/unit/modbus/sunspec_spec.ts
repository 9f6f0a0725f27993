import assert from 'node:assert/strict';
import { findProfile } from '../../../lib/modbus/profiles';
import { SUNSPEC_INVERTER_MODELS, SUNSPEC_METER_MODELS } from '../../../lib/modbus/profiles/sunspec-models';
import { resolveSunSpecProfile } from '../../../lib/modbus/sunspec';
import type { DeviceProfile } from '../../../lib/modbus/types';
import { SimulatedMeter, type SunSpecServing } from '../../../sim/modbus-meter';
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

  it('model 701: energy counters an inverter does not implement (acc64 = 0) read as unknown, never 0 Wh', async () => {
    const h = harness();
    const server = await h.server();
    const profile = findProfile('sunspec-inverter') as DeviceProfile;
    const simulated = new SimulatedMeter(profile, {
      sunspec: { model: 701 },
      values: { totalPowerW: -5000, exportWh: 1234000 },
    });
    // Model 701 follows the common model (40002 + 2 + 66): TotWhAbs (offset 23) is not counted.
    simulated.setRaw(40070 + 23, [0, 0, 0, 0]);
    server.addUnit(1, simulated);
    const bus = h.bus({ name: 'pv', transport: { kind: 'tcp', host: '127.0.0.1', port: server.port } });
    const meter = h.meter({ name: 'pv', bus, profile, unitId: 1, pollIntervalMs: 0 });
    const { reading } = await meter.readNow();
    assert.match(meter.resolvedProfile?.name ?? '', /model 701 at 40070/);
    assert.equal(reading.totalPowerW, -5000);
    assert.equal(reading.exportWh, 1234000);
    assert.equal(reading.importWh, undefined);
    simulated.setRaw(40070 + 19, [0, 0, 0, 0]);
    assert.equal((await meter.readNow()).reading.exportWh, undefined);
  });

  it('every integer energy accumulator of every SunSpec model reads 0 as "not implemented"', () => {
    const models = { ...SUNSPEC_METER_MODELS, ...SUNSPEC_INVERTER_MODELS };
    const checked: string[] = [];
    for (const [id, model] of Object.entries(models)) {
      for (const point of model.points) {
        if (point.measurand !== 'importEnergy' && point.measurand !== 'exportEnergy') continue;
        if (point.type === 'float32' || point.type === 'float64') continue;
        const zero = `0x${'0'.repeat(point.type.endsWith('64') ? 16 : 8)}`;
        assert.ok(
          point.notAvailable?.includes(zero),
          `model ${id} ${point.measurand} (${point.type}) lacks ${zero}`,
        );
        checked.push(`${id}/${point.measurand}`);
      }
    }
    assert.ok(checked.includes('701/importEnergy') && checked.includes('701/exportEnergy'));
    assert.equal(checked.length, 4 * 2 + 3 + 2, 'meters 201-204 (2 each), inverters 101-103, model 701 (2)');
  });

  it("leaves out a point any of whose registers lies past the model's end, not only its first", () => {
    const profile = findProfile('sunspec-meter') as DeviceProfile;
    // Model 213 cut short: 67 registers end at offset 68, the first half of TotWhImp (68-69).
    const resolved = resolveSunSpecProfile(profile, {
      base: 40000,
      models: [
        { id: 1, address: 40002, length: 66 },
        { id: 213, address: 40070, length: 67 },
      ],
    });
    const measurands = resolved.registers.map((register) => register.measurand);
    assert.ok(measurands.includes('exportEnergy'), 'TotWhExp (60-61) is inside');
    assert.ok(!measurands.includes('importEnergy'), 'TotWhImp (68-69) reaches past the end');
    for (const register of resolved.registers) {
      assert.ok(register.address + 1 <= 40070 + 1 + 67, `${register.measurand} inside the model`);
    }
  });
});
