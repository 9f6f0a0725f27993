import { ConfigError } from '../config-error';
import { identityProblem } from '../ocpp/handshake';
import { readPem } from '../ocpp/transport';

/**
 * The operator's backend registration list: which charger (identity) logs in with which password
 * and, for security profile 3, which client certificate. Backends that register every charger on
 * its own (Bender/Powerstation backend registration, Climkit's remote server) export it as CSV,
 * one charger per line: `identity,password[,certificate file]`. The certificate file is a PEM file
 * holding the charger's client certificate and its private key: chosen with the CSV at the import,
 * its content goes into the list (on one line); otherwise it is a path on the Node-RED host.
 * An identity without a password (or without a certificate) uses the node-wide one.
 *
 * The list is kept in its CSV form in a Node-RED credential, so no secret is in the flow JSON.
 */

export interface Registration {
  identity: string;
  password?: string;
  certificateFile?: string;
  /** The line of the text it was read from (1-based). */
  line: number;
}

export interface RegistrationProblem {
  line: number;
  message: string;
}

export interface ParsedRegistrations {
  registrations: Registration[];
  problems: RegistrationProblem[];
}

/** One charger's own upstream credentials, read from its registration. */
export interface ChargerCredentials {
  password?: string;
  cert?: string;
  key?: string;
}

/**
 * Reads a registration list. A bad line is named with its line number and left out; every good
 * line, before and after it, is kept. Empty lines, `#` comments and a header line (`identity,...`)
 * are skipped; fields are separated by `,` or `;` (as spreadsheets export), and may be quoted
 * (`"pa,ss"`, `""` for a quote inside).
 */
export function parseRegistrations(text: string): ParsedRegistrations {
  const registrations: Registration[] = [];
  const problems: RegistrationProblem[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fields = splitFields(trimmed);
    if (fields === undefined) {
      problems.push({ line, message: 'a quoted field is not closed' });
      return;
    }
    if (registrations.length === 0 && problems.length === 0 && /^identity$/i.test(fields[0] ?? '')) return;
    const [identity = '', password = '', certificateFile = '', ...rest] = fields;
    if (rest.some((field) => field !== '')) {
      problems.push({
        line,
        message: `expected identity,password[,certificate file], got ${fields.length} fields`,
      });
      return;
    }
    const wrong = identity === '' ? 'no identity' : identityProblem(identity);
    if (wrong) {
      problems.push({ line, message: wrong });
      return;
    }
    if (password === '' && certificateFile === '') {
      problems.push({ line, message: `${identity} has neither a password nor a certificate file` });
      return;
    }
    const earlier = seen.get(identity);
    if (earlier !== undefined) {
      problems.push({ line, message: `${identity} is already on line ${earlier}` });
      return;
    }
    seen.set(identity, line);
    registrations.push({
      identity,
      ...(password === '' ? {} : { password }),
      ...(certificateFile === '' ? {} : { certificateFile }),
      line,
    });
  });
  return { registrations, problems };
}

/**
 * An import into a list: the imported registrations replace those of the same identity, the
 * others stay. Returns the list in its CSV form.
 */
export function mergeRegistrations(current: Registration[], imported: Registration[]): string {
  const byIdentity = new Map(current.map((entry) => [entry.identity, entry]));
  for (const entry of imported) byIdentity.set(entry.identity, entry);
  return formatRegistrations([...byIdentity.values()]);
}

export function formatRegistrations(registrations: Registration[]): string {
  return registrations
    .map((entry) =>
      [entry.identity, entry.password ?? '', entry.certificateFile ?? '']
        .map(quote)
        .join(',')
        .replace(/,+$/, ''),
    )
    .join('\n');
}

/**
 * The credentials of each charger in the list, certificate files read (a file must hold a
 * CERTIFICATE and a PRIVATE KEY). Throws a ConfigError naming the field, the line and the charger.
 */
export function readRegistrations(text: string, field: string): Record<string, ChargerCredentials> {
  const { registrations, problems } = parseRegistrations(text);
  const [problem] = problems;
  if (problem) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    throw new ConfigError(field, `line ${problem.line}: ${problem.message}${more}`);
  }
  const credentials: Record<string, ChargerCredentials> = {};
  for (const entry of registrations) {
    const own: ChargerCredentials = entry.password === undefined ? {} : { password: entry.password };
    if (entry.certificateFile !== undefined) {
      const where = `${field} line ${entry.line} (${entry.identity})`;
      const pem = readPem(where, entry.certificateFile).toString('utf8');
      const cert = pem.match(new RegExp(CERTIFICATE.source, 'g'));
      const key = PRIVATE_KEY.exec(pem);
      if (!cert || !key) {
        // Never the value itself when it is the PEM (it may hold the key).
        const what = entry.certificateFile.includes('-----BEGIN') ? 'the PEM given' : entry.certificateFile;
        throw new ConfigError(where, `${what} must hold the client certificate and its private key (PEM)`);
      }
      own.cert = `${cert.join('\n')}\n`;
      own.key = `${key[0]}\n`;
    }
    credentials[entry.identity] = own;
  }
  return credentials;
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/;
const PRIVATE_KEY = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/;

/** The fields of one CSV line, or undefined when a quote is not closed. */
function splitFields(line: string): string[] | undefined {
  const separator = !line.includes(',') && line.includes(';') ? ';' : ',';
  const fields: string[] = [];
  let at = 0;
  for (;;) {
    while (line[at] === ' ' || line[at] === '\t') at += 1;
    let field = '';
    if (line[at] === '"') {
      at += 1;
      for (;;) {
        const close = line.indexOf('"', at);
        if (close === -1) return undefined;
        field += line.slice(at, close);
        at = close + 1;
        if (line[at] !== '"') break;
        field += '"';
        at += 1;
      }
      const next = line.indexOf(separator, at);
      at = next === -1 ? line.length : next;
    } else {
      const next = line.indexOf(separator, at);
      field = (next === -1 ? line.slice(at) : line.slice(at, next)).trim();
      at = next === -1 ? line.length : next;
    }
    fields.push(field);
    if (at >= line.length) return fields;
    at += 1;
  }
}

function quote(field: string): string {
  return /[",;\s]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/**
 * The edit dialog's import: `imported` (the backend's CSV) into `current` (the list being edited).
 * Returns the merged list, how many chargers the import gave, and its bad lines by number.
 */
export function importRegistrations(
  current: string,
  imported: string,
  files: Record<string, string> = {},
): { text: string; accepted: number; problems: RegistrationProblem[] } {
  const parsed = parseRegistrations(imported);
  const problems = [...parsed.problems];
  const registrations: Registration[] = [];
  for (const entry of parsed.registrations) {
    const name = entry.certificateFile?.split(/[\\/]/).pop();
    const pem = name === undefined ? undefined : files[name];
    if (pem === undefined) {
      registrations.push(entry);
      continue;
    }
    if (!CERTIFICATE.test(pem) || !PRIVATE_KEY.test(pem)) {
      problems.push({
        line: entry.line,
        message: `${name} must hold ${entry.identity}'s client certificate and its private key (PEM)`,
      });
      continue;
    }
    // The certificate and key themselves, on one line: the list (a credential) holds them.
    registrations.push({ ...entry, certificateFile: pem.replace(/\s+/g, ' ').trim() });
  }
  problems.sort((a, b) => a.line - b.line);
  const text = mergeRegistrations(parseRegistrations(current).registrations, registrations);
  return { text, accepted: registrations.length, problems };
}
