import assert from 'node:assert/strict';
import type { PerPhase, Reading } from '../../../lib/contracts';
import { SHIPPED_PROFILES } from '../../../lib/modbus/profiles';
import type { DeviceProfile, Measurand } from '../../../lib/modbus/types';
import { SimulatedMeter, type SimulatedValues } from '../../../lib/sim/modbus-meter';
import { useSimHarness } from './harness';

/** Values every profile can carry exactly at its resolution (0.1 kWh, 0.1 Hz, int16 with SF). */
const IMPORTING: Required<SimulatedValues> = {
  voltageV: [230.1, 231.2, 229.8],
  currentA: [5.2, 6.4, 4.5],
  powerW: [1150, 1400, 1000],
  totalPowerW: 3550,
  importWh: 1234500,
  exportWh: 89000,
  frequencyHz: 49.9,
  powerFactor: null,
  reactivePowerVar: null,
};

/** The site feeds PV power into the grid: power and current negative. */
const EXPORTING: Required<SimulatedValues> = {
  ...IMPORTING,
  currentA: [-3.1, -2.9, -2.9],
  powerW: [-700, -650, -650],
  totalPowerW: -2000,
};

const NOTHING_KNOWN: SimulatedValues = {
  voltageV: [null, null, null],
  currentA: [null, null, null],
  powerW: [null, null, null],
  totalPowerW: null,
  importWh: null,
  exportWh: null,
  frequencyHz: null,
};

/** A single-phase meter measures one phase; its power register is also the total. */
function forPhases(profile: DeviceProfile, values: Required<SimulatedValues>): Required<SimulatedValues> {
  if (profile.phases === 3) return values;
  return {
    ...values,
    voltageV: [values.voltageV[0], null, null],
    currentA: [values.currentA[0], null, null],
    powerW: [values.totalPowerW, null, null],
  };
}

/** The Reading a correct decoder makes of `values` on a device with these registers. */
function expectedReading(
  profile: DeviceProfile,
  values: Required<SimulatedValues>,
): Omit<Reading, 'timestamp'> {
  const has = new Set(profile.registers.map((r) => r.measurand));
  const triple = (kind: 'voltage' | 'current' | 'power', source: PerPhase): PerPhase | undefined => {
    const names = [1, 2, 3].map((n) => `${kind}L${n}` as Measurand);
    if (!names.some((n) => has.has(n))) return undefined;
    return names.map((n, i) => (has.has(n) ? (source[i] ?? null) : null)) as PerPhase;
  };
  const reading: Omit<Reading, 'timestamp'> = { source: profile.id };
  const voltageV = triple('voltage', values.voltageV);
  const currentA = triple('current', values.currentA);
  const powerW = triple('power', values.powerW);
  if (voltageV) reading.voltageV = voltageV;
  if (currentA) reading.currentA = currentA;
  if (powerW) reading.powerW = powerW;
  if (has.has('powerTotal') && values.totalPowerW !== null) reading.totalPowerW = values.totalPowerW;
  if (has.has('importEnergy') && values.importWh !== null) reading.importWh = values.importWh;
  if (has.has('exportEnergy') && values.exportWh !== null) reading.exportWh = values.exportWh;
  if (has.has('frequency') && values.frequencyHz !== null) reading.frequencyHz = values.frequencyHz;
  return reading;
}

describe('every shipped profile, read from the simulator over Modbus TCP', function () {
  this.timeout(20000);
  const harness = useSimHarness();

  for (const profile of SHIPPED_PROFILES) {
    it(`${profile.id}: import and export normalised (W, Wh, A, V, Hz, import positive), unknown never zero`, async () => {
      const h = harness();
      const server = await h.server();
      const simulated = new SimulatedMeter(profile, { values: forPhases(profile, IMPORTING) });
      server.addUnit(7, simulated);
      const bus = h.bus({
        name: 'profiles',
        transport: { kind: 'tcp', host: '127.0.0.1', port: server.port },
      });
      const meter = h.meter({
        name: profile.id,
        bus,
        profile,
        unitId: 7,
        pollIntervalMs: 0,
        pauseAfterConnectMs: 0,
      });
      const served = simulated.servedProfile;

      const importing = await meter.readNow();
      assert.deepEqual(importing.errors, []);
      const { timestamp, ...reading } = importing.reading;
      assert.match(timestamp, /^\d{4}-\d\d-\d\dT/);
      assert.deepEqual(reading, expectedReading(served, forPhases(profile, IMPORTING)));

      simulated.set(forPhases(profile, EXPORTING));
      const before = server.requestCounts.get(7) ?? 0;
      const exporting = await meter.readNow();
      const { timestamp: _t, ...exported } = exporting.reading;
      assert.deepEqual(exported, expectedReading(served, forPhases(profile, EXPORTING)));
      assert.ok((exported.totalPowerW ?? -1) < 0, 'export is negative');
      if (exported.currentA)
        assert.ok(
          exported.currentA.every((a) => a === null || a < 0),
          'export current is negative',
        );
      assert.equal(
        (server.requestCounts.get(7) ?? 0) - before,
        meter.plan?.length,
        'one request per planned block',
      );

      simulated.set(NOTHING_KNOWN);
      const unknown = await meter.readNow();
      const numbers = JSON.stringify({ ...unknown.reading, source: undefined, timestamp: undefined }).match(
        /-?\d+(\.\d+)?/g,
      );
      assert.equal(numbers, null, `sentinels must read as unknown: ${JSON.stringify(unknown.reading)}`);
    });
  }

  it("puts a single-phase meter's values on the phase it is wired to", async () => {
    const h = harness();
    const server = await h.server();
    const profile = SHIPPED_PROFILES.find((p) => p.id === 'eastron-sdm120') as DeviceProfile;
    server.addUnit(3, new SimulatedMeter(profile, { values: forPhases(profile, IMPORTING) }));
    const bus = h.bus({ name: 'p', transport: { kind: 'tcp', host: '127.0.0.1', port: server.port } });
    const meter = h.meter({ name: 'heat pump', bus, profile, unitId: 3, pollIntervalMs: 0, phase: 2 });
    const { reading } = await meter.readNow();
    assert.deepEqual(reading.voltageV, [null, 230.1, null]);
    assert.deepEqual(reading.powerW, [null, 3550, null]);
    assert.equal(reading.source, 'heat pump');
  });

  it('reads SMA night values (0x80000000, 0xFFFFFFFF) as unknown', async () => {
    const h = harness();
    const server = await h.server();
    const profile = SHIPPED_PROFILES.find((p) => p.id === 'sma-inverter') as DeviceProfile;
    const simulated = new SimulatedMeter(profile, { values: EXPORTING });
    simulated.setRaw(30775, [0x8000, 0x0000]);
    simulated.setRaw(30803, [0xffff, 0xffff]);
    server.addUnit(3, simulated);
    const bus = h.bus({ name: 'p', transport: { kind: 'tcp', host: '127.0.0.1', port: server.port } });
    const { reading } = await h.meter({ name: 'pv', bus, profile, unitId: 3, pollIntervalMs: 0 }).readNow();
    assert.equal(reading.totalPowerW, undefined);
    assert.equal(reading.frequencyHz, undefined);
    assert.deepEqual(reading.powerW, [-700, -650, -650]);
  });
});

describe('shipped profiles against registers written by hand from the manuals', () => {
  const harness = useSimHarness();

  async function readRaw(id: string, raw: [number, number[]][], values: SimulatedValues = IMPORTING) {
    const h = harness();
    const server = await h.server();
    const profile = SHIPPED_PROFILES.find((p) => p.id === id) as DeviceProfile;
    const simulated = new SimulatedMeter(profile, { values });
    for (const [address, words] of raw) simulated.setRaw(address, words);
    server.addUnit(1, simulated);
    const bus = h.bus({ name: 'raw', transport: { kind: 'tcp', host: '127.0.0.1', port: server.port } });
    return (
      await h
        .meter({ name: id, bus, profile, unitId: 1, pollIntervalMs: 0, pauseAfterConnectMs: 0 })
        .readNow()
    ).reading;
  }

  it('Carlo Gavazzi: int32 low word first, V x0.1 (2301 = 0x08FD 0x0000)', async () => {
    const reading = await readRaw('carlo-gavazzi-em24', [[0x00, [0x08fd, 0x0000]]]);
    assert.equal(reading.voltageV?.[0], 230.1);
  });

  it('B-Control: unsigned P+ and P- make one signed power (P- 1234.5 W exports)', async () => {
    const reading = await readRaw('bcontrol-em300-lr', [
      [0, [0, 0]],
      [2, [0x0000, 12345]],
    ]);
    assert.equal(reading.totalPowerW, -1234.5);
  });

  it('Huawei grid meter: 37113 counts export positive, so +2000 W reads -2000 W', async () => {
    const reading = await readRaw('huawei-sun2000-meter', [[37113, [0x0000, 2000]]]);
    assert.equal(reading.totalPowerW, -2000);
  });

  it('Schneider: power in kW as float32 (1.5 kW = 0x3FC00000)', async () => {
    const reading = await readRaw('schneider-iem3x5x', [[3059, [0x3fc0, 0x0000]]]);
    assert.equal(reading.totalPowerW, 1500);
  });

  it('ABB: 0x7FFFFFFF means "not available" on this meter', async () => {
    const reading = await readRaw('abb-b23-b24', [[0x5b14, [0x7fff, 0xffff]]]);
    assert.equal(reading.totalPowerW, undefined);
  });

  it('Eastron: input registers, 30001 is wire address 0 (0x4366199A = 230.1 V)', async () => {
    const reading = await readRaw('eastron-sdm630', [[0, [0x4366, 0x199a]]]);
    assert.equal(reading.voltageV?.[0], 230.1);
  });
});
