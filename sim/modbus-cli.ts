import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { PerPhase } from '../lib/contracts';
import { findProfile, SHIPPED_PROFILES } from '../lib/modbus/profiles';
import { DEFAULT_SIMULATED_VALUES, SimulatedMeter, type SimulatedValues } from './modbus-meter';
import { ModbusSimServer, type SimTransport } from './modbus-server';
import { programOptions, stopSignal } from './program';

/**
 * `ampflow-modbus-sim`: serves simulated meters over Modbus TCP, RTU over TCP or a serial port
 * (a pseudo-terminal), for demos and for trying the meter nodes without hardware.
 */
export const MODBUS_SIM_HELP = `Usage: ampflow-modbus-sim --meter <profile>@<unit> [--meter ...] [options]

Serves simulated meters, each as the named device profile would. Values change
slowly (a house load and a PV system) unless set from standard input.

Options:
  --meter <profile>@<unit>  A meter to serve, e.g. eastron-sdm630@1 (repeatable).
  --port <n>                Modbus TCP port on --host (default 1502).
  --host <address>          Listen address (default 127.0.0.1).
  --rtu-over-tcp            Speak RTU frames over TCP (a serial gateway) instead of Modbus TCP.
  --serial <path>           Serve RTU on a serial port (e.g. one end of a socat pty pair).
  --baud <n>                Serial baud rate (default 9600).
  --static                  Keep the values fixed.
  --help                    Show this help.

Standard input, one line per change: <unit> <field>=<value> ...
  fields: totalPowerW, importWh, exportWh, frequencyHz (a number or "null"),
          voltageV, currentA, powerW (three numbers separated by commas).
  Example: 1 totalPowerW=-2000 powerW=-700,-650,-650

Profiles: ${SHIPPED_PROFILES.map((p) => p.id).join(', ')}
`;

export interface ModbusSimCliOptions {
  meters: { profileId: string; unitId: number }[];
  transport: SimTransport;
  varying: boolean;
}

export function parseModbusSimArgs(argv: string[]): ModbusSimCliOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      meter: { type: 'string', multiple: true, default: [] },
      port: { type: 'string', default: '1502' },
      host: { type: 'string', default: '127.0.0.1' },
      'rtu-over-tcp': { type: 'boolean', default: false },
      serial: { type: 'string' },
      baud: { type: 'string', default: '9600' },
      static: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const meters = (values.meter ?? []).map((spec) => {
    const match = /^([a-z0-9-]+)@(\d+)$/.exec(spec);
    if (!match || !findProfile(match[1] ?? '') || Number(match[2]) > 255) {
      throw new Error(`--meter ${spec}: expected <profile>@<unit>, a profile from the list and a unit 0-255`);
    }
    return { profileId: match[1] as string, unitId: Number(match[2]) };
  });
  if (meters.length === 0) throw new Error('name at least one --meter');
  const transport: SimTransport = values.serial
    ? { kind: 'rtu', path: values.serial, baudRate: Number(values.baud) }
    : { kind: values['rtu-over-tcp'] ? 'rtu-over-tcp' : 'tcp', host: values.host, port: Number(values.port) };
  return { meters, transport, varying: !values.static };
}

/** Applies one stdin line ("1 totalPowerW=-2000 powerW=-700,-650,-650") to the meters. */
export function applyValueLine(line: string, meters: Map<number, SimulatedMeter>): string {
  const [unitText, ...assignments] = line.trim().split(/\s+/);
  const meter = meters.get(Number(unitText));
  if (!meter) return `no meter at unit ${unitText}`;
  const values: SimulatedValues = {};
  for (const assignment of assignments) {
    const [field, text = ''] = assignment.split('=');
    const number = (value: string) => (value === 'null' ? null : Number(value));
    if (field === 'voltageV' || field === 'currentA' || field === 'powerW') {
      const parts = text.split(',').map(number);
      if (parts.length !== 3 || parts.some((p) => p !== null && !Number.isFinite(p)))
        return `${field}: three numbers`;
      values[field] = parts as PerPhase;
    } else if (
      field === 'totalPowerW' ||
      field === 'importWh' ||
      field === 'exportWh' ||
      field === 'frequencyHz'
    ) {
      const value = number(text);
      if (value !== null && !Number.isFinite(value)) return `${field}: a number or null`;
      values[field] = value;
    } else {
      return `unknown field ${field}`;
    }
  }
  meter.set(values);
  return `unit ${unitText} set`;
}

/** A house load and a PV system that change every second: what the demo shows moving. */
export function siteValues(atMs: number): SimulatedValues {
  const minutes = atMs / 60000;
  const pvW = Math.max(0, 4000 * Math.sin(((minutes % 60) / 60) * Math.PI));
  const loadW = [900, 700, 500].map((base, phase) => base + 300 * Math.sin(minutes * 2 + phase));
  const powerW = loadW.map((load) => Math.round(load - pvW / 3)) as [number, number, number];
  const voltageV: PerPhase = [230.1, 231.2, 229.8];
  return {
    voltageV,
    powerW,
    currentA: powerW.map((p, i) => Math.round((p / (voltageV[i] ?? 230)) * 100) / 100) as PerPhase,
    totalPowerW: powerW[0] + powerW[1] + powerW[2],
    frequencyHz: 50,
  };
}

/** Runs the simulator until SIGINT/SIGTERM; resolves when stopped. */
export async function runModbusSim(
  options: ModbusSimCliOptions,
  io: { log: (line: string) => void; input?: NodeJS.ReadableStream } = { log: console.log },
): Promise<{ server: ModbusSimServer; stop: () => Promise<void> }> {
  const server = new ModbusSimServer(options.transport);
  const meters = new Map<number, SimulatedMeter>();
  for (const { profileId, unitId } of options.meters) {
    const profile = findProfile(profileId);
    if (!profile) throw new Error(`no meter profile "${profileId}"`);
    const meter = new SimulatedMeter(profile, { values: DEFAULT_SIMULATED_VALUES });
    meters.set(unitId, meter);
    server.addUnit(unitId, meter);
  }
  await server.start();
  const where =
    options.transport.kind === 'rtu'
      ? `RTU on ${options.transport.path}`
      : `${options.transport.kind === 'tcp' ? 'Modbus TCP' : 'RTU over TCP'} on ${options.transport.host ?? '127.0.0.1'}:${server.port}`;
  io.log(
    `ampflow-modbus-sim: serving ${options.meters.map((m) => `${m.profileId}@${m.unitId}`).join(', ')} (${where})`,
  );
  let energyWh = DEFAULT_SIMULATED_VALUES.importWh ?? 0;
  const timer = options.varying
    ? setInterval(() => {
        const values = siteValues(Date.now());
        energyWh += Math.max(0, values.totalPowerW ?? 0) / 3600;
        for (const meter of meters.values()) meter.set({ ...values, importWh: Math.round(energyWh) });
      }, 1000)
    : undefined;
  const lines = io.input ? createInterface({ input: io.input }) : undefined;
  lines?.on('line', (line) => {
    if (line.trim()) io.log(applyValueLine(line, meters));
  });
  return {
    server,
    async stop() {
      if (timer) clearInterval(timer);
      lines?.close();
      await server.stop();
    },
  };
}

/** The program: serves until Ctrl-C (SIGINT) or SIGTERM. Exit code 2 for bad arguments. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const options = programOptions('ampflow-modbus-sim', MODBUS_SIM_HELP, argv, parseModbusSimArgs);
  if (!options) return;
  const sim = await runModbusSim(options, {
    log: (line) => process.stdout.write(`${line}\n`),
    input: process.stdin,
  });
  await stopSignal();
  await sim.stop();
  process.stdin.pause();
}
