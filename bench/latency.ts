/**
 * Control latency: a grid-meter change at the Modbus simulator until the SetChargingProfile for
 * every affected connector has arrived at the simulated chargers, with 10 and 100 connectors.
 * The poll interval is left out: each run changes the simulator's value and then triggers the
 * meter read on demand (what a msg into `ampflow-meter` does).
 *
 *   npm run bench:latency -- [--sizes 10,100] [--runs 20] [--first-amps-runs 3]
 *
 * Then the time to first amps (bench/support/first-amps.ts) under the defaults and the demo's settings.
 *
 * Wired in one process as the nodes wire it: lib/modbus Meter (Modbus TCP to lib/sim's
 * ModbusSimServer) -> lib/dlm LoadManager (connector states from the central system, as
 * ampflow-dlm subscribes to them) -> one set-point at a time into lib/profiles
 * ChargingProfileManager (as ampflow-charging-profile gets them) -> lib/ocpp CentralSystem ->
 * lib/sim SimulatedChargePoint (2 connectors each, all charging), all on 127.0.0.1.
 *
 * Each run raises the other loads on the grid circuit so that every connector's share drops by
 * 1.2 A (decreases go out at once; the load manager holds increases, so the runs only go down).
 * Figures per size: median and p99 over every connector of every run, and where the time goes
 * (Modbus read, load manager, until the frame leaves the central system's socket, until the
 * charger has it).
 */
import { ManualClock } from '../lib/clock';
import type { ConnectorState, SetPoint } from '../lib/contracts';
import { LoadManager } from '../lib/dlm/load-manager';
import type { SiteConfig } from '../lib/dlm/site';
import { silentLogger } from '../lib/log';
import { ModbusBus } from '../lib/modbus/bus';
import { Meter } from '../lib/modbus/meter';
import { SHIPPED_PROFILES } from '../lib/modbus/profiles';
import { subscribe } from '../lib/ocpp/events';
import { ChargingProfileManager } from '../lib/profiles';
import { SimulatedChargePoint } from '../lib/sim/charge-point';
import { SimulatedMeter } from '../lib/sim/modbus-meter';
import { ModbusSimServer } from '../lib/sim/modbus-server';
import { benchCentralSystem, onProfileFrameOut } from './support/central-system';
import { type FirstAmpsCase, timeToFirstAmps } from './support/first-amps';
import { loadNow, machineLine, median, percentile, wallTime } from './support/machine';
import { benchOptions } from './support/options';

const {
  sizes,
  runs,
  'first-amps-runs': firstAmpsRuns,
} = benchOptions({ sizes: [10, 100], runs: 20, 'first-amps-runs': 3 });
const CONNECTORS_PER_CHARGER = 2;
const MAX_A = 32;
const STEP_A = 1.2;
const BASE_OTHER_A = 10;

interface RunTimes {
  readMs: number;
  dlmMs: number;
  outMs: number[];
  inMs: number[];
}

function gridProfile() {
  const profile = SHIPPED_PROFILES.find((p) => p.id === 'eastron-sdm630');
  if (!profile) throw new Error('the eastron-sdm630 profile is missing');
  return profile;
}

async function measure(connectorCount: number): Promise<RunTimes[]> {
  const chargerCount = Math.ceil(connectorCount / CONNECTORS_PER_CHARGER);
  // The Modbus side: a simulated grid meter and the meter reader.
  const modbus = new ModbusSimServer({ kind: 'tcp' });
  await modbus.start();
  const simMeter = new SimulatedMeter(gridProfile());
  modbus.addUnit(1, simMeter);
  const bus = new ModbusBus({
    name: 'grid bus',
    transport: { kind: 'tcp', host: '127.0.0.1', port: modbus.port },
  });
  const meter = new Meter({
    name: 'grid',
    bus,
    profile: gridProfile(),
    unitId: 1,
    pollIntervalMs: 0,
    pauseAfterConnectMs: 0,
  });
  const otherLoads = (a: number) =>
    simMeter.set({ currentA: [a, a, a], powerW: [a * 230, a * 230, a * 230] });
  otherLoads(BASE_OTHER_A);

  // The OCPP side: central system and simulated chargers, every connector charging.
  const cs = await benchCentralSystem();
  const simClock = new ManualClock(Date.now());
  const chargers = Array.from(
    { length: chargerCount },
    (_, i) =>
      new SimulatedChargePoint({
        centralSystemUrl: cs.url as string,
        identity: `LAT-${String(i).padStart(3, '0')}`,
        clock: simClock,
        connectors: CONNECTORS_PER_CHARGER,
        configuration: { WebSocketPingInterval: 0, MeterValueSampleInterval: 0 },
      }),
  );
  await Promise.all(chargers.map((cp) => cp.connect()));
  for (const cp of chargers) {
    for (let connectorId = 1; connectorId <= CONNECTORS_PER_CHARGER; connectorId++) {
      cp.plugIn(connectorId, { maxCurrentA: MAX_A });
      await cp.startTransaction(connectorId, `${cp.identity}-${connectorId}`.slice(-20));
    }
  }
  await Promise.all(chargers.map((cp) => cp.whenIdle()));
  const keys = chargers.flatMap((cp) =>
    Array.from({ length: CONNECTORS_PER_CHARGER }, (_, i) => `${cp.identity}/${i + 1}`),
  );

  // When each connector's SetChargingProfile left the central system and arrived at the charger.
  let outAt = new Map<string, number>();
  let inAt = new Map<string, number>();
  let lastLimit = new Map<string, number>();
  let allArrived: (() => void) | undefined;
  onProfileFrameOut(cs, (key, at) => {
    if (!outAt.has(key)) outAt.set(key, at);
  });
  for (const cp of chargers) {
    cp.on('received', ({ action, request }: { action: string; request: unknown }) => {
      if (action !== 'SetChargingProfile') return;
      const at = performance.now();
      const { connectorId, csChargingProfiles } = request as {
        connectorId: number;
        csChargingProfiles: { chargingSchedule: { chargingSchedulePeriod: { limit: number }[] } };
      };
      const key = `${cp.identity}/${connectorId}`;
      lastLimit.set(key, csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]?.limit ?? Number.NaN);
      if (!inAt.has(key)) inAt.set(key, at);
      if (inAt.size === connectorCount) allArrived?.();
    });
  }

  // The load manager and the charging-profile manager, wired as ampflow-dlm and ampflow-charging-profile.
  const site: SiteConfig = {
    circuits: [
      {
        id: 'grid',
        limitA: connectorCount * MAX_A + BASE_OTHER_A,
        meter: { source: 'grid', location: 'otherLoadsOnly', staleAfterMs: 600_000 },
      },
    ],
    connectors: keys.map((key) => {
      const [chargePointId, connectorId] = key.split('/') as [string, string];
      return { chargePointId, connectorId: Number(connectorId), circuit: 'grid', maxA: MAX_A };
    }),
    unbalanceLimitA: null,
    // Start and ramp at once, so the warm-up reaches full current without waiting.
    control: { rampUpAPerS: 1000, minUpdateIntervalMs: 0 },
  };
  const manager = new LoadManager({ site, logger: silentLogger });
  const profiles = new ChargingProfileManager(cs, { increaseIntervalMs: 0, log: silentLogger });
  const applied: Promise<unknown>[] = [];
  manager.on('setPoint', (setPoint: SetPoint) => {
    applied.push(profiles.apply(setPoint));
  });
  manager.batch(() => {
    for (const state of cs.connectors.all()) manager.connectorState(structuredClone(state));
  });
  const unsubscribe = subscribe(cs, { actions: ['ConnectorState'] }, (event) =>
    manager.connectorState(event.payload as ConnectorState),
  );
  manager.start();

  const readInto = async () => {
    const result = await meter.readNow();
    manager.reading(result.reading);
  };

  // Warm-up: every connector at full current at the chargers.
  const warmDeadline = Date.now() + 60_000;
  while (keys.some((key) => lastLimit.get(key) !== MAX_A)) {
    if (Date.now() > warmDeadline) throw new Error('warm-up: not every connector reached its full limit');
    await readInto();
    await wallTime(100);
  }
  await Promise.all(applied.splice(0));

  const results: RunTimes[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      outAt = new Map();
      inAt = new Map();
      lastLimit = new Map();
      const arrived = new Promise<void>((resolve) => {
        allArrived = resolve;
      });
      const t0 = performance.now();
      otherLoads(BASE_OTHER_A + run * STEP_A * connectorCount);
      const result = await meter.readNow();
      const readMs = performance.now() - t0;
      manager.reading(result.reading);
      const dlmMs = performance.now() - t0;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        arrived,
        new Promise((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new Error(`run ${run}: ${inAt.size} of ${connectorCount} connectors got a new profile`)),
            30_000,
          );
        }),
      ]);
      clearTimeout(timer);
      const expected = MAX_A - run * STEP_A;
      for (const key of keys) {
        const limit = lastLimit.get(key) ?? Number.NaN;
        if (!(Math.abs(limit - expected) < 0.6))
          throw new Error(`run ${run}: ${key} got ${limit} A, expected about ${expected.toFixed(1)} A`);
      }
      results.push({
        readMs,
        dlmMs,
        outMs: keys.map((key) => (outAt.get(key) ?? Number.NaN) - t0),
        inMs: keys.map((key) => (inAt.get(key) ?? Number.NaN) - t0),
      });
      await Promise.all(applied.splice(0));
    }
  } finally {
    unsubscribe();
    manager.stop();
    profiles.close();
    await Promise.all(chargers.map((cp) => cp.close()));
    await cs.stop();
    await bus.close();
    await modbus.stop();
  }
  return results;
}

function ms(value: number): string {
  return `${value.toFixed(2)} ms`;
}

async function main(): Promise<void> {
  console.log(
    'ampflow control latency: grid-meter change at the Modbus simulator -> SetChargingProfile at every charger',
  );
  console.log(machineLine());
  console.log(`command: npm run bench:latency -- --sizes ${sizes.join(',')} --runs ${runs}`);
  console.log(
    `meter read on demand (no poll interval); each run lowers every connector's share by ${STEP_A} A; ${CONNECTORS_PER_CHARGER} connectors per simulated charger; the charger "has it" when its OCPP client hands the call to its handler\n`,
  );
  for (const size of sizes) {
    const results = await measure(size);
    const all = results.flatMap((r) => r.inMs);
    const lastPerRun = results.map((r) => Math.max(...r.inMs));
    console.log(`${size} connectors (${results.length} runs, ${all.length} set-points), load ${loadNow()}:`);
    console.log(
      `  meter change -> SetChargingProfile at the charger: median ${ms(median(all))}, p99 ${ms(percentile(all, 99))}`,
    );
    console.log(
      `  until the last connector of a change has it: median ${ms(median(lastPerRun))}, p99 ${ms(percentile(lastPerRun, 99))}`,
    );
    console.log(
      `  where the time goes (medians): Modbus read ${ms(median(results.map((r) => r.readMs)))}, + load manager -> all set-points handed to lib/profiles ${ms(median(results.map((r) => r.dlmMs)))}, ` +
        `frame leaves the central system ${ms(median(results.flatMap((r) => r.outMs)))}, at the charger ${ms(median(all))}`,
    );
  }
}

/** The settings a site runs with: the package's defaults and the demo's (demo/flows.json). */
const FIRST_AMPS_CASES: FirstAmpsCase[] = [
  { name: 'defaults', control: {}, profiles: {} },
  { name: 'demo settings', control: { minUpdateIntervalMs: 10_000, rampUpAPerS: 1 }, profiles: {} },
];

async function firstAmps(): Promise<void> {
  console.log(
    `\ntime to first amps: a car plugs in on an empty 32 A line (charger booted 1 s before: its 0 A has just gone out) -> first SetChargingProfile above 0 A at the charger (${firstAmpsRuns} runs each; target: 2 s plus the charger's reply)`,
  );
  for (const setting of FIRST_AMPS_CASES) {
    const times: number[] = [];
    for (let run = 0; run < firstAmpsRuns; run++) times.push(await timeToFirstAmps(setting, 1_000, 120_000));
    console.log(`  ${setting.name}: median ${ms(median(times))}, max ${ms(Math.max(...times))}`);
  }
}

main()
  .then(firstAmps)
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
