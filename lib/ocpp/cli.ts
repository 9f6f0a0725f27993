import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config-error';
import type { Logger } from '../log';
import { CentralSystem } from './central-system';
import { type CentralSystemSettings, parseSettings } from './settings';

const HELP = `ampflow-cs: an OCPP central system (1.6-J and 2.0.1) without Node-RED, for commissioning:
see whether a charger dials in and what it says. Every frame is logged on one line.

Usage: ampflow-cs [options]
       ampflow-cs certs [options]   make the CA, server and charger certificates (certs --help)

  --host <address>          interface to listen on (default: every interface)
  --port <n>                TCP port (default 9000)
  --path <path>             path prefix chargers dial under (default /)
  --security-profile <0-3>  0 none, 1 password, 2 TLS + password, 3 TLS client certificates (default 0)
  --passwords <file>        profiles 1 and 2: one line per charger, "<identity> <password>";
                            "* <password>" for every other charger
  --tls-cert <file>         profiles 2 and 3: the central system's certificate (PEM)
  --tls-key <file>          its private key (PEM)
  --tls-ca <file>           profile 3: the CA that signed the chargers' certificates
  --unknown <policy>        unknown charge points: pending (answer Pending, default), accept, reject
  --protocols <list>        OCPP versions served, most preferred first: ocpp1.6,ocpp2.0.1 (default),
                            ocpp2.0.1,ocpp1.6, ocpp1.6 or ocpp2.0.1
  --accept-all-id-tags      accept every id tag (free charging); default: only listed tags
  --id-tags <list>          accepted id tags, separated by commas
  --lenient <ids>           charge points whose schema violations are logged and accepted (commas)
  --heartbeat <s>           heartbeat interval given to chargers (default 300)
  --ping <s>                WebSocket ping interval, 0 = off (default 60)
  --data-dir <dir>          keep transactions and records here (default: in memory only)
  --quiet                   do not log frames, only connections and problems
  --help                    this text

Chargers dial ws://<this machine>:<port><path><charge point id> (wss:// with TLS).`;

// parseArgs's option table: every command-line tool has one of this shape (deliberately alike).
const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  path: { type: 'string' },
  'security-profile': { type: 'string' },
  passwords: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  unknown: { type: 'string' },
  protocols: { type: 'string' },
  'accept-all-id-tags': { type: 'boolean' },
  'id-tags': { type: 'string' },
  lenient: { type: 'string' },
  heartbeat: { type: 'string' },
  ping: { type: 'string' },
  'data-dir': { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/**
 * A room that adds options to `ampflow-cs` (the upstream proxy does): its options, their lines
 * in --help, and what to do with them once the central system listens.
 */
export interface CliExtension {
  options: Record<string, { type: 'string' | 'boolean' }>;
  help: string;
  attach(cs: CentralSystem, values: Record<string, string | boolean | undefined>, log: Logger): void;
}

const consoleIo: CliIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

/**
 * Parses the command line into a started central system; throws ConfigError naming the option at
 * fault. Exported for tests; `runCentralSystemCli` is the program.
 */
export async function startCentralSystemCli(
  argv: string[],
  io: CliIo = consoleIo,
  extension?: CliExtension,
): Promise<CentralSystem | undefined> {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: { ...OPTIONS, ...extension?.options }, strict: true }) as {
      values: typeof values;
    });
  } catch (err) {
    throw new ConfigError('command line', (err as Error).message);
  }
  if (values.help) {
    io.out(extension ? HELP.replace('\n\nChargers dial', `\n${extension.help}\n\nChargers dial`) : HELP);
    return undefined;
  }
  const readOption = (option: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `--${option}`,
        `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  };
  const idTags = (values['id-tags'] ?? '')
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
  const settings: CentralSystemSettings = {
    host: values.host ?? '',
    port: values.port ?? '',
    path: values.path ?? '',
    securityProfile: values['security-profile'] ?? '0',
    passwords: readOption('passwords', values.passwords) ?? '',
    // TLS files are read by the central system (paths are allowed there), with errors naming the file.
    tlsCertificate: values['tls-cert'] ?? '',
    tlsPrivateKey: values['tls-key'] ?? '',
    tlsCa: values['tls-ca'] ?? '',
    unknownChargePoints: values.unknown ?? '',
    protocols: values.protocols ?? '',
    authorizationPolicy: values['accept-all-id-tags'] ? 'acceptAll' : 'localList',
    idTags: idTags.map((idTag) => ({ idTag, status: 'Accepted' as const })),
    chargePoints: (values.lenient ?? '')
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean)
      .map((id) => ({ id, lenient: true })),
    heartbeatIntervalS: values.heartbeat ?? '',
    pingIntervalS: values.ping ?? '',
  };
  let options: ReturnType<typeof parseSettings>;
  try {
    options = parseSettings(settings);
  } catch (err) {
    if (err instanceof ConfigError)
      throw new ConfigError(optionName(err.field), err.message.replace(/^[^:]+: /, ''));
    throw err;
  }
  if (values['data-dir']) options.dataDirectory = values['data-dir'];
  const log: Logger = {
    info: (line) => io.out(`${stamp()} ${line}`),
    warn: (line) => io.err(`${stamp()} warning: ${line}`),
    error: (line) => io.err(`${stamp()} error: ${line}`),
  };
  options.log = log;
  const cs = new CentralSystem(options);
  if (!values.quiet) {
    cs.on(
      'frame',
      ({ chargePointId, direction, frame }: { chargePointId: string; direction: string; frame: string }) =>
        io.out(`${stamp()} ${chargePointId} ${direction === 'in' ? '->' : '<-'} ${redactSecrets(frame)}`),
    );
  }
  cs.on(
    'message',
    ({ chargePointId, action, response }: { chargePointId: string; action: string; response: unknown }) => {
      if (action === 'BootNotification' && (response as { status?: string }).status === 'Pending') {
        log.info(
          `${chargePointId} is unknown and waits for approval: restart with --unknown accept, or list it with --lenient/--passwords`,
        );
      }
    },
  );
  if (!options.dataDirectory) log.info('no --data-dir: transactions and records are kept in memory only');
  try {
    await cs.start();
  } catch (err) {
    if (err instanceof ConfigError)
      throw new ConfigError(optionName(err.field), err.message.replace(/^[^:]+: /, ''));
    throw err;
  }
  try {
    extension?.attach(cs, values as Record<string, string | boolean | undefined>, log);
  } catch (err) {
    await cs.stop();
    throw err;
  }
  return cs;
}

/** Maps the settings' field names back to the command-line options that fill them. */
function optionName(field: string): string {
  const byField: Record<string, string> = {
    host: '--host',
    port: '--port',
    path: '--path',
    securityProfile: '--security-profile',
    passwords: '--passwords',
    tlsCertificate: '--tls-cert',
    'TLS certificate': '--tls-cert',
    tlsPrivateKey: '--tls-key',
    'TLS private key': '--tls-key',
    tlsCa: '--tls-ca',
    'TLS CA certificate': '--tls-ca',
    unknownChargePoints: '--unknown',
    protocols: '--protocols',
    heartbeatIntervalS: '--heartbeat',
    pingIntervalS: '--ping',
  };
  return (
    byField[field] ??
    (field.startsWith('idTags') ? '--id-tags' : field.startsWith('chargePoints') ? '--lenient' : field)
  );
}

/**
 * The charger's password (configuration key AuthorizationKey) never goes into a log: a
 * ChangeConfiguration that sets it, or a non-compliant charger that reports it, is shown redacted.
 */
export function redactSecrets(frame: string): string {
  return frame.replace(/("key"\s*:\s*"AuthorizationKey"[^}]*?"value"\s*:\s*")(?:[^"\\]|\\.)*"/g, '$1***"');
}

function stamp(): string {
  return new Date().toISOString();
}

/** The `ampflow-cs` program: runs until Ctrl-C, then closes every connection cleanly. */
export async function runCentralSystemCli(argv: string[], extension?: CliExtension): Promise<void> {
  let cs: CentralSystem | undefined;
  try {
    cs = await startCentralSystemCli(argv, consoleIo, extension);
  } catch (err) {
    console.error(`ampflow-cs: ${(err as Error).message}`);
    if (err instanceof ConfigError) console.error('ampflow-cs --help lists the options');
    process.exitCode = 1;
    return;
  }
  if (!cs) return;
  const running = cs;
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    running.stop().then(
      () => process.exit(0),
      (err: Error) => {
        console.error(`ampflow-cs: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
