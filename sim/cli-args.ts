import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../lib/config-error';
import { type Quirks, VENDOR_BEHAVIOURS } from './charge-point';
import { CLI_OPTIONS } from './cli-options';
import { NO_QUIRKS, OCPP_VERSIONS, type OcppVersion } from './link';

/**
 * `ampflow-sim`'s command line (sim/cli.ts runs it): the help text, and the arguments read and
 * checked into {@link CliOptions}, a mistake named by its option ({@link CliError}).
 */

export const HELP = `Usage: ampflow-sim --url <ws://host:port/path> [options]

Runs simulated OCPP 1.6-J charge points (or 2.0.1 ones, --ocpp) against a central
system. Each charge point connects to <url>/<identity>, registers with BootNotification
and answers every central-system request as the OCPP specification says. Cars arrive at
random, charge and leave. Stop with Ctrl-C for a summary.

Options:
  --url <url>             Central system endpoint, ws:// or wss:// (required). The
                          identity is appended: ws://host:9000/ gives ws://host:9000/SIM-1.
  --ocpp <version>        OCPP version the charge points speak: 1.6 (default) or 2.0.1. A list
                          (1.6,2.0.1) is given out charger by charger in turn, for a mixed site.
                          A 2.0.1 charger behaves as a 1.6 one does (cars, meter values,
                          charging profiles), in 2.0.1 messages.
  --count <n>             Number of charge points (default 1).
  --identity <id>         The identity of a charge point, exactly (instead of --prefix, --first and
                          --count); repeat or separate with commas for several.
  --prefix <text>         Identity prefix; identities are <prefix><number> (default SIM-).
  --first <n>             Number of the first charge point (default 1): --prefix CP- --first 4
                          --count 1 runs CP-4 alone.
  --password <text>       HTTP Basic password (security profiles 1 and 2); the user is
                          the identity.
  --connectors <n>        Connectors per charge point (default 1).
  --phases <1|3>          Phases each connector is wired with (default 3).
  --max-current <A>       Rated current per connector and phase (default 32).
  --meter-interval <s>    MeterValueSampleInterval in seconds; 0 sends none (default 60).
  --heartbeat <s>         Heartbeat interval until the central system sets one (default 300).
  --session-minutes <m>   Mean time a car charges; 0 for no cars (default 30).
  --gap-minutes <m>       Mean time a connector stays free between cars (default 10).
  --id-tag <tag>          Badge the cars show (default: a random TAG-nnnnn per car); repeat or
                          separate with commas for several, one drawn per car.
  --seed <n>              Seed for arrivals and cars; the same seed repeats the same day (default 1).
  --spread <s>            Spread the first connects over this many seconds (default 0).
  --quirk <name>          Switch on a vendor deviation; repeat or separate with commas:
                          ${Object.keys(NO_QUIRKS).join(', ')}.
                          These are OCPP 1.6 deviations: 2.0.1 chargers do not have them.
  --vendor <name>         Take charging profiles as this charger model does:
                          ${Object.keys(VENDOR_BEHAVIOURS).join(', ')}
                          (the presets of ampflow-charging-profile; default: as the spec says);
                          applies to 2.0.1 chargers too.
  --ca <file>             PEM file with the certificate authority for wss:// (profiles 2, 3).
  --cert <file>           PEM client certificate for wss:// (profile 3); needs --key.
  --key <file>            PEM private key of --cert.
  --quiet                 Print only the summary.
  --help                  Show this help.
`;

export interface CliOptions {
  url: string;
  /** --ocpp: the versions given out in turn; absent: 1.6 for all. */
  ocppVersions?: OcppVersion[];
  count: number;
  prefix: string;
  /** Identities given one by one (--identity); empty: <prefix><number>. */
  identities: string[];
  first: number;
  password?: string;
  connectors: number;
  phases: 1 | 3;
  maxCurrentA: number;
  meterIntervalS: number;
  heartbeatS: number;
  sessionMinutes: number;
  gapMinutes: number;
  seed: number;
  idTags: string[];
  spreadS: number;
  quirks: Partial<Quirks>;
  vendor?: keyof typeof VENDOR_BEHAVIOURS;
  ca?: string;
  cert?: string;
  key?: string;
  quiet: boolean;
}

/** A command-line mistake: a ConfigError whose field is the option at fault ("--count"). */
export class CliError extends ConfigError {
  override name = 'CliError';

  get option(): string {
    return this.field;
  }
}

function number(
  option: string,
  raw: string | undefined,
  fallback: number,
  { min, max, integer }: { min: number; max: number; integer: boolean },
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw.trim());
  const kind = integer ? 'a whole number' : 'a number';
  if (
    raw.trim() === '' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    value < min ||
    value > max
  ) {
    throw new CliError(`--${option}`, `must be ${kind} from ${min} to ${max}, not "${raw}"`);
  }
  return value;
}

/** A list option's values, repeated or separated by commas, each trimmed. */
function listOption(raw: string | boolean | string[] | undefined): string[] {
  return ((raw as string[] | undefined) ?? [])
    .flatMap((entry) => entry.split(','))
    .map((item) => item.trim());
}

/** `--identity` values; OCPP-J puts them in the URL path (1 to 48 characters). */
function identityList(list: readonly string[]): string[] {
  for (const id of list) {
    if (id.length < 1 || id.length > 48 || /[\s/]/.test(id)) {
      throw new CliError('--identity', `an identity has 1 to 48 characters, no blanks or "/", not "${id}"`);
    }
  }
  if (new Set(list).size !== list.length) throw new CliError('--identity', 'an identity is given twice');
  return [...list];
}

/** `--ocpp` values: 1.6 or 2.0.1 (also spelt as the sub-protocols, ocpp1.6 and ocpp2.0.1). */
function ocppVersions(list: readonly string[]): OcppVersion[] {
  return list.map((item) => {
    const version = item.replace(/^ocpp/i, '');
    if (!(OCPP_VERSIONS as readonly string[]).includes(version)) {
      throw new CliError('--ocpp', `must be ${OCPP_VERSIONS.join(' or ')}, not "${item}"`);
    }
    return version as OcppVersion;
  });
}

/** `--id-tag` values; an OCPP IdToken is 1 to 20 characters. */
function idTags(tags: readonly string[]): string[] {
  for (const tag of tags) {
    if (tag.length < 1 || tag.length > 20) {
      throw new CliError('--id-tag', `an id tag has 1 to 20 characters, not "${tag}"`);
    }
  }
  return [...tags];
}

function pemFile(option: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`--${option}`, `cannot read ${path}: ${(err as Error).message}`);
  }
}

/** Parses the command line; returns 'help' for --help. Throws {@link CliError} naming the option at fault. */
export function parseCliArgs(argv: readonly string[]): CliOptions | 'help' {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: CLI_OPTIONS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    const message = (err as Error).message;
    const option =
      /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? /"(-{1,2}[^" ]+)/.exec(message)?.[1] ?? 'arguments';
    throw new CliError(option, message.replace(/\. To specify a positional.*$/s, ''));
  }
  if (values.help) return 'help';
  const str = (name: string) => values[name] as string | undefined;

  const url = str('url');
  if (!url) throw new CliError('--url', 'is required, e.g. --url ws://127.0.0.1:9000/');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError('--url', `"${url}" is not a URL`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new CliError('--url', `must start with ws:// or wss://, not ${parsed.protocol}//`);
  }

  const quirks: Partial<Quirks> = {};
  for (const name of listOption(values.quirk).filter(Boolean)) {
    if (!(name in NO_QUIRKS)) {
      throw new CliError('--quirk', `unknown quirk "${name}"; known: ${Object.keys(NO_QUIRKS).join(', ')}`);
    }
    quirks[name as keyof Quirks] = true;
  }

  const vendor = str('vendor');
  if (vendor !== undefined && !Object.hasOwn(VENDOR_BEHAVIOURS, vendor)) {
    throw new CliError(
      '--vendor',
      `unknown charger model "${vendor}"; known: ${Object.keys(VENDOR_BEHAVIOURS).join(', ')}`,
    );
  }

  const prefix = str('prefix') ?? 'SIM-';
  if (/[\s/]/.test(prefix)) throw new CliError('--prefix', `must not contain blanks or "/", not "${prefix}"`);
  const identities = identityList(listOption(values.identity));
  const numbered = (['prefix', 'first', 'count'] as const).find((option) => values[option] !== undefined);
  if (identities.length > 0 && numbered) {
    throw new CliError('--identity', `names the charge points itself: leave out --${numbered}`);
  }
  const phases = number('phases', str('phases'), 3, { min: 1, max: 3, integer: true });
  if (phases !== 1 && phases !== 3) throw new CliError('--phases', `must be 1 or 3, not "${str('phases')}"`);
  const password = str('password');
  if (password === '') throw new CliError('--password', 'must not be empty');
  const cert = pemFile('cert', str('cert'));
  const key = pemFile('key', str('key'));
  if ((cert === undefined) !== (key === undefined)) {
    throw new CliError(cert ? '--key' : '--cert', 'client certificates need both --cert and --key');
  }
  const ca = pemFile('ca', str('ca'));
  if ((ca || cert) && parsed.protocol !== 'wss:') {
    throw new CliError(ca ? '--ca' : '--cert', 'certificates need a wss:// --url');
  }

  const versions = values.ocpp === undefined ? undefined : ocppVersions(listOption(values.ocpp));
  if (versions?.length === 0) throw new CliError('--ocpp', `must be ${OCPP_VERSIONS.join(' or ')}`);

  return {
    url,
    ...(versions === undefined ? {} : { ocppVersions: versions }),
    count: identities.length || number('count', str('count'), 1, { min: 1, max: 100_000, integer: true }),
    prefix,
    identities,
    first: number('first', str('first'), 1, { min: 0, max: 1_000_000_000, integer: true }),
    ...(password !== undefined ? { password } : {}),
    connectors: number('connectors', str('connectors'), 1, { min: 1, max: 32, integer: true }),
    phases,
    maxCurrentA: number('max-current', str('max-current'), 32, { min: 6, max: 1000, integer: false }),
    meterIntervalS: number('meter-interval', str('meter-interval'), 60, {
      min: 0,
      max: 86_400,
      integer: true,
    }),
    heartbeatS: number('heartbeat', str('heartbeat'), 300, { min: 1, max: 86_400, integer: true }),
    sessionMinutes: number('session-minutes', str('session-minutes'), 30, {
      min: 0,
      max: 10_080,
      integer: false,
    }),
    gapMinutes: number('gap-minutes', str('gap-minutes'), 10, { min: 0, max: 10_080, integer: false }),
    seed: number('seed', str('seed'), 1, { min: 0, max: 2 ** 32 - 1, integer: true }),
    idTags: idTags(listOption(values['id-tag'])),
    spreadS: number('spread', str('spread'), 0, { min: 0, max: 3600, integer: false }),
    quirks,
    ...(vendor !== undefined ? { vendor: vendor as keyof typeof VENDOR_BEHAVIOURS } : {}),
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
    quiet: values.quiet === true,
  };
}
