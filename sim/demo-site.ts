import { parseArgs } from 'node:util';
import { type Clock, systemClock, type TimerHandle } from '../lib/clock';
import type { PhaseRotation, Triple } from '../lib/dlm/site';
import { NOMINAL_VOLTAGE_V } from '../lib/electrical';
import { findProfile } from '../lib/modbus/profiles';
import { SimulatedChargePoint } from './charge-point';
import { round1, serveMeters, VOLTAGE_V } from './demo-meters';
import { DAY_MS, DemoVisits } from './demo-visits';
import { seededRandom } from './fleet';
import { hashString } from './link';
import { SimulatedMeter } from './modbus-meter';
import { ModbusSimServer } from './modbus-server';
import { programOptions, stopSignal } from './program';
import type { OcppVersion } from './types';

/**
 * The site `npm start` shows: a car park behind one 63 A breaker, as a separate process that the
 * demo flow reaches over the same sockets real devices use. A grid meter (Eastron SDM630) and a PV
 * inverter (SunSpec) are served over Modbus TCP; five OCPP chargers (one of them a dual charger on
 * one 32 A supply line) dial the central system. Cars arrive, charge and leave over a compressed
 * day; the grid meter measures the house, what the chargers actually draw (after the charging
 * profiles they were sent) and the PV plant, so the flow's load manager closes a real loop.
 */

export const DEMO_ZONE_LIMIT_A = 63;
export const DEMO_SUPPLY_LINE_LIMIT_A = 32;

export interface DemoCharger {
  id: string;
  /** OCPP ConnectorPhaseRotation of every connector: how the charger's L1..L3 meet the grid's. */
  rotation: PhaseRotation;
  connectors: number;
  /** The OCPP version it speaks; 1.6 unless said (the demo car park is a mixed one). */
  ocppVersion?: OcppVersion;
}

/** The chargers of the demo car park; the demo flow's load manager lists the same. */
export const DEMO_CHARGERS: readonly DemoCharger[] = [
  { id: 'CP-1', rotation: 'RST', connectors: 1 },
  { id: 'CP-2', rotation: 'STR', connectors: 1 },
  { id: 'CP-3', rotation: 'TRS', connectors: 1 },
  { id: 'CP-4', rotation: 'RST', connectors: 1, ocppVersion: '2.0.1' },
  { id: 'CP-5', rotation: 'STR', connectors: 2 },
];

export const DEMO_PV_PEAK_W = 15_000;

export interface DemoSiteOptions {
  /** The central system's endpoint; each charger appends its identity. */
  centralSystemUrl: string;
  /** Where the Modbus servers listen. Default 127.0.0.1. */
  host?: string;
  /** Modbus TCP port of the grid meter (0: any free port). Default 1502. */
  gridMeterPort?: number;
  /** Modbus TCP port of the PV inverter (0: any free port). Default 1503. */
  inverterPort?: number;
  /** Real minutes one simulated day takes. Default 15. */
  dayMinutes?: number;
  /** Simulated time of day at the start, hours. Default 7.5. */
  startHour?: number;
  /** Seed of arrivals and cars. Default 1. */
  seed?: number;
  /** A status line every this many real seconds (0: none). Default 10. */
  statusIntervalS?: number;
  clock?: Clock;
  /** One line per event, without trailing newline. */
  log?: (line: string) => void;
}

/** Grid meter unit id and PV inverter unit id on their servers. */
export const DEMO_GRID_METER_UNIT = 1;
export const DEMO_INVERTER_UNIT = 1;

/** What the grid meter measures, per grid phase, A (import positive). */
export interface SiteFlows {
  houseA: Triple;
  chargersA: Triple;
  pvW: number;
  gridA: Triple;
  /** What the charging cars would draw without load management (their and their chargers' maximum). */
  unmanagedA: Triple;
}

/** Other loads of the building per grid phase at a time of day (hours): a base, meals, evenings. */
export function houseLoadA(hour: number): Triple {
  const bump = (center: number, width: number) => Math.exp(-(((hour - center) / width) ** 2));
  const morning = bump(7.5, 1.2);
  const lunch = bump(12.3, 1);
  const evening = bump(19.5, 2);
  return [
    3.5 + 3 * morning + 6 * lunch + 8 * evening + Math.sin(hour * 3.7),
    2.5 + 2 * morning + 2 * lunch + 6 * evening + 0.8 * Math.sin(hour * 2.9 + 1),
    4 + 3 * morning + 3 * lunch + 7 * evening + Math.sin(hour * 4.3 + 2),
  ].map((a) => round1(Math.max(0.5, a))) as Triple;
}

/** PV production at a time of day (hours), W: sunrise 6:00, sunset 20:00, passing clouds. */
export function pvPowerW(hour: number, peakW = DEMO_PV_PEAK_W): number {
  if (hour <= 6 || hour >= 20) return 0;
  const sun = Math.sin((Math.PI * (hour - 6)) / 14) ** 1.5;
  const clouds = 1 - 0.25 * Math.max(0, Math.sin(hour * 2.3) * Math.sin(hour * 0.9 + 1));
  return Math.round(peakW * sun * clouds);
}

export class DemoSite {
  readonly chargePoints: SimulatedChargePoint[];
  readonly gridMeter: SimulatedMeter;
  readonly inverter: SimulatedMeter;
  private readonly gridServer: ModbusSimServer;
  private readonly inverterServer: ModbusSimServer;
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private readonly speed: number;
  private readonly startedAtMs: number;
  private readonly startOfDayMs: number;
  private readonly visits: DemoVisits;
  private tickTimer: TimerHandle | undefined;
  private statusTimer: TimerHandle | undefined;
  private running = false;
  private importWh = 4_210_000;
  private exportWh = 1_380_000;
  private pvEnergyWh = 9_870_000;
  private lastTickMs: number;
  /** Highest grid current per phase since the last status line, and since the start. */
  private highestA: Triple = [0, 0, 0];
  private highestEverA: Triple = [0, 0, 0];
  private highestUnmanagedA: Triple = [0, 0, 0];
  private lastFlows: SiteFlows | undefined;

  constructor(readonly options: DemoSiteOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? ((line) => console.log(line));
    const dayMinutes = options.dayMinutes ?? 15;
    if (!(dayMinutes > 0)) throw new RangeError('dayMinutes must be a positive number');
    this.speed = (24 * 60) / dayMinutes;
    this.startOfDayMs = (options.startHour ?? 7.5) * 3600_000;
    this.startedAtMs = this.clock.now();
    this.lastTickMs = this.startedAtMs;
    const host = options.host ?? '127.0.0.1';
    const sdm630 = findProfile('eastron-sdm630');
    const sunspec = findProfile('sunspec-inverter');
    if (!sdm630 || !sunspec)
      throw new Error('the demo needs the eastron-sdm630 and sunspec-inverter profiles');
    this.gridMeter = new SimulatedMeter(sdm630);
    this.inverter = new SimulatedMeter(sunspec, { sunspec: { model: 103 } });
    this.gridServer = new ModbusSimServer({ kind: 'tcp', host, port: options.gridMeterPort ?? 1502 });
    this.gridServer.addUnit(DEMO_GRID_METER_UNIT, this.gridMeter);
    this.inverterServer = new ModbusSimServer({ kind: 'tcp', host, port: options.inverterPort ?? 1503 });
    this.inverterServer.addUnit(DEMO_INVERTER_UNIT, this.inverter);

    const seed = options.seed ?? 1;
    this.visits = new DemoVisits({
      clock: this.clock,
      speed: this.speed,
      log: (line) => this.log(line),
      running: () => this.running,
      simulatedMs: () => this.simulatedMs(),
      timeOfDay: (simulatedMs) => this.timeOfDay(simulatedMs),
      tick: () => this.tick(),
    });
    this.chargePoints = DEMO_CHARGERS.map((charger) => {
      const rotation = ['0.RST'];
      for (let id = 1; id <= charger.connectors; id++) rotation.push(`${id}.${charger.rotation}`);
      const cp = new SimulatedChargePoint({
        centralSystemUrl: options.centralSystemUrl,
        identity: charger.id,
        clock: this.clock,
        chargePointVendor: 'ampflow',
        chargePointModel: charger.connectors > 1 ? 'Demo dual AC 2x22 kW' : 'Demo AC 22 kW',
        ...(charger.ocppVersion ? { ocppVersion: charger.ocppVersion } : {}),
        connectors: charger.connectors,
        maxCurrentA: 32,
        configuration: { ConnectorPhaseRotation: rotation.join(','), MeterValueSampleInterval: 10 },
        reconnect: { initialDelayS: 1, maxDelayS: 5 },
      });
      for (let connectorId = 1; connectorId <= charger.connectors; connectorId++) {
        const key = `${charger.id}/${connectorId}`;
        this.visits.add(cp, connectorId, key, seededRandom(hashString(`${seed}/${key}`)));
      }
      this.visits.watch(cp);
      return cp;
    });
  }

  get gridMeterPort(): number {
    return this.gridServer.port;
  }

  get inverterPort(): number {
    return this.inverterServer.port;
  }

  /** Simulated milliseconds since midnight of the first day. */
  simulatedMs(): number {
    return this.startOfDayMs + (this.clock.now() - this.startedAtMs) * this.speed;
  }

  /** `HH:MM` of the simulated time. */
  timeOfDay(simulatedMs = this.simulatedMs()): string {
    const minutes = Math.floor((simulatedMs % DAY_MS) / 60_000);
    return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
  }

  /** The values the meters serve now (the last tick's). */
  get flows(): SiteFlows | undefined {
    return this.lastFlows;
  }

  async start(): Promise<void> {
    this.running = true;
    await Promise.all([this.gridServer.start(), this.inverterServer.start()]);
    this.tick();
    const statusMs = (this.options.statusIntervalS ?? 10) * 1000;
    if (statusMs > 0) {
      const status = () => {
        this.status();
        this.statusTimer = this.clock.setTimeout(status, statusMs);
      };
      this.statusTimer = this.clock.setTimeout(status, statusMs);
    }
    for (const cp of this.chargePoints) void cp.connect().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.clock.clearTimeout(this.tickTimer);
    this.clock.clearTimeout(this.statusTimer);
    this.visits.stop();
    await Promise.all(this.chargePoints.map((cp) => cp.close()));
    await Promise.all([this.gridServer.stop(), this.inverterServer.stop()]);
  }

  /** Recomputes what flows where and what the meters serve; again every 250 ms. */
  tick(): void {
    this.clock.clearTimeout(this.tickTimer);
    if (!this.running) return;
    const now = this.clock.now();
    const hour = (this.simulatedMs() % DAY_MS) / 3600_000;
    const houseA = houseLoadA(hour);
    const pvW = pvPowerW(hour);
    const chargersA: Triple = [0, 0, 0];
    const unmanagedA: Triple = [0, 0, 0];
    for (const run of this.visits.runs) {
      const connector = run.cp.connector(run.connectorId);
      connector.currentA.forEach((a, p) => {
        chargersA[p] = (chargersA[p] ?? 0) + a;
      });
      const ev = connector.ev;
      if (ev && connector.transaction && !ev.full) {
        const rotation = DEMO_CHARGERS.find((c) => c.id === run.cp.identity)?.rotation ?? 'RST';
        const phases = [...rotation].slice(0, ev.phases).map((letter) => 'RST'.indexOf(letter));
        for (const p of phases) unmanagedA[p] = (unmanagedA[p] ?? 0) + Math.min(ev.maxCurrentA, 32);
      }
    }
    const pvA = pvW / 3 / NOMINAL_VOLTAGE_V;
    const gridA = houseA.map((a, p) => round1(a + (chargersA[p] ?? 0) - pvA)) as Triple;
    const powerW = gridA.map((a, p) => Math.round(a * (VOLTAGE_V[p] ?? NOMINAL_VOLTAGE_V))) as Triple;
    const totalPowerW = powerW[0] + powerW[1] + powerW[2];
    const hours = (now - this.lastTickMs) / 3600_000;
    this.lastTickMs = now;
    if (totalPowerW > 0) this.importWh += totalPowerW * hours;
    else this.exportWh -= totalPowerW * hours;
    this.pvEnergyWh += pvW * hours;
    serveMeters(this.gridMeter, this.inverter, {
      gridA,
      powerW,
      totalPowerW,
      importWh: this.importWh,
      exportWh: this.exportWh,
      pvW,
      pvA,
      pvEnergyWh: this.pvEnergyWh,
    });
    gridA.forEach((a, p) => {
      this.highestA[p] = Math.max(this.highestA[p] ?? 0, a);
      this.highestEverA[p] = Math.max(this.highestEverA[p] ?? 0, a);
    });
    const unmanagedGridA = unmanagedA.map((a, p) => round1(a + (houseA[p] ?? 0) - pvA)) as Triple;
    unmanagedGridA.forEach((a, p) => {
      this.highestUnmanagedA[p] = Math.max(this.highestUnmanagedA[p] ?? 0, a);
    });
    this.lastFlows = {
      houseA,
      chargersA: chargersA.map(round1) as Triple,
      pvW,
      gridA,
      unmanagedA: unmanagedGridA,
    };
    this.tickTimer = this.clock.setTimeout(() => this.tick(), 250);
  }

  /**
   * One line on what the site does: the grid meter's currents, the highest since the last line
   * (the breaker's view), and what the charging cars would draw without load management.
   */
  status(): void {
    const flows = this.lastFlows;
    if (!flows) return;
    const amps = (values: Triple) => values.map((a) => a.toFixed(1)).join('/');
    const charging = this.visits.runs
      .map((run) => ({ run, connector: run.cp.connector(run.connectorId) }))
      .filter(({ connector }) => connector.powerW > 0)
      .map(({ run, connector }) => {
        const phases = connector.currentA.filter((a) => a > 0).length;
        return `${run.key} ${Math.max(...connector.currentA).toFixed(0)} A${phases === 1 ? ' 1p' : ''}`;
      });
    this.log(
      `${this.timeOfDay()} grid ${amps(flows.gridA)} A (limit ${DEMO_ZONE_LIMIT_A} A, highest since last line ${amps(this.highestA)} A, unmanaged would be ${amps(this.highestUnmanagedA)} A); house ${amps(flows.houseA)} A, PV ${(flows.pvW / 1000).toFixed(1)} kW, chargers ${amps(flows.chargersA)} A; charging: ${charging.join(', ') || 'none'}`,
    );
    this.highestA = [...flows.gridA];
    this.highestUnmanagedA = [...flows.unmanagedA];
  }

  /** Highest grid current per phase since the start. */
  get highestEver(): Triple {
    return [...this.highestEverA];
  }
}

export const DEMO_SITE_HELP = `Usage: ampflow-demo-site [options]

The site of the ampflow demo (npm start): a grid meter (Eastron SDM630, unit 1) and a
PV inverter (SunSpec, unit 1) over Modbus TCP, and five OCPP 1.6 chargers (CP-1..CP-5,
CP-5 a dual charger) with cars arriving, charging and leaving over a compressed day.
The grid meter measures the house, the chargers and the PV plant. Stop with Ctrl-C.

Options:
  --url <url>              Central system endpoint (default ws://127.0.0.1:9000/).
  --host <address>         Modbus listen address (default 127.0.0.1).
  --grid-meter-port <n>    Modbus TCP port of the grid meter (default 1502).
  --inverter-port <n>      Modbus TCP port of the PV inverter (default 1503).
  --day-minutes <m>        Real minutes a simulated day takes (default 15).
  --start-hour <h>         Simulated time of day at the start (default 7.5).
  --seed <n>               Seed of arrivals and cars (default 1).
  --status-interval <s>    A status line every this many seconds; 0 for none (default 10).
  --help                   Show this help.
`;

export function parseDemoSiteArgs(argv: string[]): DemoSiteOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string', default: 'ws://127.0.0.1:9000/' },
      host: { type: 'string', default: '127.0.0.1' },
      'grid-meter-port': { type: 'string', default: '1502' },
      'inverter-port': { type: 'string', default: '1503' },
      'day-minutes': { type: 'string', default: '15' },
      'start-hour': { type: 'string', default: '7.5' },
      seed: { type: 'string', default: '1' },
      'status-interval': { type: 'string', default: '10' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const number = (name: keyof typeof values, min: number, max: number): number => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < min || value > max)
      throw new Error(`--${name} ${values[name]}: expected a number from ${min} to ${max}`);
    return value;
  };
  if (!/^wss?:\/\//.test(values.url)) throw new Error(`--url ${values.url}: expected ws://... or wss://...`);
  return {
    centralSystemUrl: values.url,
    host: values.host,
    gridMeterPort: number('grid-meter-port', 0, 65535),
    inverterPort: number('inverter-port', 0, 65535),
    dayMinutes: number('day-minutes', 0.1, 24 * 60),
    startHour: number('start-hour', 0, 24),
    seed: number('seed', 0, 2 ** 32),
    statusIntervalS: number('status-interval', 0, 3600),
  };
}

/** The program: runs the site until SIGINT/SIGTERM. Exit code 2 for bad arguments, 1 if it cannot start. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const options = programOptions('ampflow-demo-site', DEMO_SITE_HELP, argv, parseDemoSiteArgs);
  if (!options) return;
  const say = (line: string) => process.stdout.write(`ampflow-demo-site: ${line}\n`);
  const site = new DemoSite({ ...options, log: say });
  const stopped = stopSignal();
  try {
    await site.start();
  } catch (error) {
    process.stderr.write(`ampflow-demo-site: cannot start: ${(error as Error).message}\n`);
    await site.stop().catch(() => undefined);
    process.exitCode = 1;
    return;
  }
  say(
    `ready: grid meter on modbus tcp ${options.host}:${site.gridMeterPort} unit ${DEMO_GRID_METER_UNIT}, PV inverter on ${options.host}:${site.inverterPort} unit ${DEMO_INVERTER_UNIT}; chargers ${DEMO_CHARGERS.map((c) => c.id).join(', ')} dial ${options.centralSystemUrl}; simulated time ${site.timeOfDay()}, one day in ${options.dayMinutes} min`,
  );
  await stopped;
  await site.stop();
  say(
    `stopped; the grid meter's highest current was ${site.highestEver.map((a) => a.toFixed(1)).join('/')} A`,
  );
}
