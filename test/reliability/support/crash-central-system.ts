import type { Logger } from '../../../lib/log';
import { CentralSystem } from '../../../lib/ocpp/central-system';

/** A line to the test that kills the process (stdout). */
export const print = (line: string) => process.stdout.write(`${line}\n`);

/** Warnings and errors go to the test as `warn ...` and `error ...` lines. */
export const printingLog: Logger = {
  info: () => undefined,
  warn: (message) => print(`warn ${message}`),
  error: (message) => print(`error ${message}`),
};

/**
 * The central system a crash test kills with SIGKILL: its durable state in `dataDirectory`, on
 * 127.0.0.1:`port`, unknown chargers and every id tag accepted, no pings; a failure of its store
 * is printed as `failed ...`.
 */
export function crashCentralSystem(dataDirectory: string, port: number): CentralSystem {
  const cs = new CentralSystem({
    host: '127.0.0.1',
    port,
    dataDirectory,
    unknownChargePoints: 'accept',
    readConfigurationOnBoot: false,
    authorization: { policy: 'acceptAll' },
    pingIntervalS: 0,
    log: printingLog,
  });
  cs.on('failed', (error: Error) => print(`failed ${error.message}`));
  return cs;
}
