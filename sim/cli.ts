import { systemClock } from '../lib/clock';
import { CliError, type CliOptions, HELP, parseCliArgs } from './cli-args';
import { printFleetEvents } from './cli-events';
import { Fleet, type FleetCounters } from './fleet';

/**
 * `ampflow-sim`: runs simulated OCPP 1.6-J (or 2.0.1) charge points against a central system from
 * the command line, prints one line per notable event and a summary when stopped (Ctrl-C). The
 * command line itself is read and checked in cli-args.ts.
 */

export { CliError, type CliOptions, HELP, parseCliArgs } from './cli-args';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Resolves when the run should stop (Ctrl-C in {@link main}). */
  stopped: Promise<void>;
}

export function summary(counters: FleetCounters): string {
  return (
    `ampflow-sim: ${counters.chargePoints} charge point(s), ${counters.connected} connected, ` +
    `${counters.accepted} accepted; sessions ${counters.sessionsStarted} started, ${counters.sessionsFinished} finished, ` +
    `${counters.sessionsRefused} refused; ${(counters.energyWh / 1000).toFixed(1)} kWh delivered`
  );
}

/** Runs the simulator until `io.stopped`; returns the exit code (0 ok, 2 usage error). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let options: CliOptions | 'help';
  try {
    options = parseCliArgs(argv);
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    io.err(`ampflow-sim: ${err.message}`);
    io.err('Run ampflow-sim --help for the options.');
    return 2;
  }
  if (options === 'help') {
    io.out(HELP);
    return 0;
  }
  const opts = options;
  const clock = systemClock;
  const started = clock.now();
  const fleet = new Fleet({
    centralSystemUrl: opts.url,
    count: opts.count,
    identityPrefix: opts.prefix,
    firstNumber: opts.first,
    ...(opts.identities.length > 0 ? { identities: opts.identities } : {}),
    ...(opts.ocppVersions ? { ocppVersions: opts.ocppVersions } : {}),
    connectSpreadS: opts.spreadS,
    clock,
    chargePoint: {
      connectors: opts.connectors,
      phases: opts.phases,
      maxCurrentA: opts.maxCurrentA,
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      ...(opts.ca || opts.cert
        ? {
            tls: {
              ...(opts.ca ? { ca: opts.ca } : {}),
              ...(opts.cert ? { cert: opts.cert } : {}),
              ...(opts.key ? { key: opts.key } : {}),
            },
          }
        : {}),
      quirks: opts.quirks,
      ...(opts.vendor !== undefined ? { vendorBehaviour: opts.vendor } : {}),
      reconnect: { initialDelayS: 1, maxDelayS: 60, jitter: 0.2 },
      configuration: {
        MeterValueSampleInterval: opts.meterIntervalS,
        HeartbeatInterval: opts.heartbeatS,
      },
    },
    ...(opts.sessionMinutes > 0
      ? {
          sessions: {
            sessionMinutes: opts.sessionMinutes,
            gapMinutes: opts.gapMinutes,
            seed: opts.seed,
            ...(opts.idTags.length > 0 ? { idTags: opts.idTags } : {}),
          },
        }
      : {}),
  });
  printFleetEvents(fleet, clock, started, (line) => {
    if (!opts.quiet) io.out(line);
  });
  io.out(
    `ampflow-sim: ${opts.count} charge point(s) ${opts.identities.length > 0 ? opts.identities.join(', ') : `${opts.prefix}${opts.first}..${opts.prefix}${opts.first + opts.count - 1}`} -> ${opts.url}` +
      (opts.ocppVersions ? ` (OCPP ${[...new Set(opts.ocppVersions)].join(', ')})` : '') +
      (opts.sessionMinutes > 0
        ? ` (sessions ~${opts.sessionMinutes} min, gaps ~${opts.gapMinutes} min, seed ${opts.seed})`
        : ''),
  );
  if (opts.ocppVersions?.includes('2.0.1') && Object.keys(opts.quirks).length > 0)
    io.out('ampflow-sim: --quirk applies to the OCPP 1.6 chargers only');
  await Promise.race([fleet.start(), io.stopped]);
  await io.stopped;
  const counters = fleet.counters;
  await fleet.stop();
  io.out(summary(counters));
  return 0;
}

/** The `ampflow-sim` entry point: runs until SIGINT/SIGTERM and sets the exit code. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  let signals = 0;
  const onSignal = () => {
    signals += 1;
    // A second Ctrl-C leaves at once.
    if (signals > 1) process.exit(130);
    stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The simulator's timers do not hold the process (a test's clock must not): this does, until
  // Ctrl-C, so chargers waiting to reconnect to a central system that is away (not up yet, or
  // restarted by a Node-RED deploy) keep trying instead of the process ending without a word.
  const keepAlive = setInterval(() => undefined, 60 * 60 * 1000);
  try {
    process.exitCode = await runCli(argv, {
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
      stopped,
    });
  } finally {
    clearInterval(keepAlive);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
