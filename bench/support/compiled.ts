/**
 * The modules bench/latency.ts and bench/dlm.ts measure, loaded either as Node-RED runs them (the package compiled
 * by tsc, built once for the run into a private directory: bench/support/node-red.ts) or from the
 * TypeScript sources through tsx (esbuild-transpiled, with a `__name` wrapper per named closure),
 * which costs CPU on every call the product never pays.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { benchDirectory, buildPackage } from './node-red';

type LibModules = {
  allocate: typeof import('../../lib/dlm/allocation/allocate');
  loadManager: typeof import('../../lib/dlm/load-manager');
  log: typeof import('../../lib/log');
  bus: typeof import('../../lib/modbus/bus');
  meter: typeof import('../../lib/modbus/meter');
  modbusProfiles: typeof import('../../lib/modbus/profiles');
  connectorFeed: typeof import('../../lib/ocpp/connector-feed');
  centralSystem: typeof import('../../lib/ocpp/central-system');
  profiles: typeof import('../../lib/profiles');
};

const PATHS: Record<keyof LibModules, string> = {
  allocate: 'lib/dlm/allocation/allocate',
  loadManager: 'lib/dlm/load-manager',
  log: 'lib/log',
  bus: 'lib/modbus/bus',
  meter: 'lib/modbus/meter',
  modbusProfiles: 'lib/modbus/profiles',
  connectorFeed: 'lib/ocpp/connector-feed',
  centralSystem: 'lib/ocpp/central-system',
  profiles: 'lib/profiles',
};

/** `compiled`: from a fresh tsc build of the package (dist/lib); otherwise from ../../lib through tsx. */
export function loadLib(compiled: boolean): LibModules {
  let root = join(__dirname, '..', '..');
  if (compiled) {
    const dir = benchDirectory();
    // The build is the run's own: gone when the bench ends (its modules are loaded by then).
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    root = join(buildPackage(dir), 'dist');
  }
  const modules: Partial<Record<keyof LibModules, unknown>> = {};
  for (const [key, path] of Object.entries(PATHS))
    modules[key as keyof LibModules] = require(join(root, path));
  return modules as LibModules;
}
