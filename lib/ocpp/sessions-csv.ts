import { type CdrConnector, cdrConnectorOf, checkCdrConnectors } from './cdr-connectors';
import type { SessionRecord } from './central-state';

export interface SessionsCsvOptions {
  /** `,` by default, `;` with a decimal comma; `;` for spreadsheets set up for a decimal comma. */
  separator?: ',' | ';' | '\t';
  /** `.` by default; `,` writes `12,5` (the separator is then `;` unless it is a tab). */
  decimal?: '.' | ',';
  /**
   * Plug type, AC/DC and a comment per `<identity>` or `<identity>/<connector>` (the connector's
   * entry wins, field by field), over the table the central system was configured with.
   */
  connectors?: Record<string, CdrConnector>;
  /** A comment per session, by transaction id; it follows the connector's comment. */
  comments?: Record<string, string>;
  /** Only sessions that stopped at or after this instant (ISO 8601). */
  from?: string;
  /** Only sessions that stopped before this instant (ISO 8601). */
  to?: string;
}

const COLUMNS = [
  ['transactionId', 'transaction'],
  ['chargePointId', 'charge point'],
  ['connectorId', 'connector'],
  ['idTag', 'id tag'],
  ['startedAt', 'started (UTC)'],
  ['stoppedAt', 'stopped (UTC)'],
  ['durationMinutes', 'duration (min)'],
  ['meterStartWh', 'meter start (Wh)'],
  ['meterStopWh', 'meter stop (Wh)'],
  ['energyWh', 'energy (Wh)'],
  ['stopReason', 'stop reason'],
  ['stopIdTag', 'stopped by id tag'],
  ['anomaly', 'note'],
  ['chargerTransactionId', 'charger transaction id (OCPP 2.0.1)'],
  ['connectorType', 'connector type'],
  ['current', 'AC/DC'],
  ['comment', 'comment'],
] as const;

/**
 * The charge data records as CSV, one line per finished session, for facility staff who bill
 * from a spreadsheet. Cells that a spreadsheet would take for a formula (an identity such as
 * `+49*839*0000000001`, an id tag starting with `=`) are prefixed with an apostrophe, as the
 * OWASP advice on CSV injection recommends, so they show as text. `configured` is the central
 * system's connector table (its *Records* tab); `options.connectors` overrides it per key.
 */
export async function sessionsCsv(
  sessions: AsyncIterable<SessionRecord>,
  options: SessionsCsvOptions = {},
  configured?: Readonly<Record<string, CdrConnector>>,
) {
  const { separator, decimal } = format(options);
  const connectors = { ...configured, ...checkCdrConnectors(options.connectors) };
  const fromMs = instant('from', options.from);
  const toMs = instant('to', options.to);
  const lines = [COLUMNS.map(([, title]) => cell(title, separator, decimal)).join(separator)];
  for await (const session of sessions) {
    const stoppedMs = Date.parse(session.stoppedAt);
    if (fromMs !== undefined && stoppedMs < fromMs) continue;
    if (toMs !== undefined && stoppedMs >= toMs) continue;
    const connector = cdrConnectorOf(connectors, session.chargePointId, session.connectorId);
    const comment = [connector.comment, options.comments?.[String(session.transactionId)]].filter(Boolean);
    const row = {
      ...session,
      durationMinutes: durationMinutes(session),
      connectorType: connector.type,
      current: connector.current,
      comment: comment.length > 0 ? comment.join('; ') : undefined,
    } as Record<string, unknown>;
    lines.push(COLUMNS.map(([key]) => cell(row[key], separator, decimal)).join(separator));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The separator and decimal mark asked for; a RangeError names an impossible pair. */
function format(options: SessionsCsvOptions): { separator: string; decimal: string } {
  const decimal = options.decimal ?? '.';
  if (decimal !== '.' && decimal !== ',')
    throw new RangeError(`decimal must be "." or ",", not ${JSON.stringify(decimal)}`);
  const separator = options.separator ?? (decimal === ',' ? ';' : ',');
  if (separator !== ',' && separator !== ';' && separator !== '\t') {
    throw new RangeError(`separator must be ",", ";" or a tab, not ${JSON.stringify(separator)}`);
  }
  if (decimal === ',' && separator === ',') {
    throw new RangeError('a decimal comma needs the separator ";" (or a tab): "," would split every number');
  }
  return { separator, decimal };
}

function instant(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms))
    throw new RangeError(`${field} must be an ISO 8601 instant, not ${JSON.stringify(value)}`);
  return ms;
}

function durationMinutes(session: SessionRecord): number | undefined {
  if (!session.startedAt) return undefined;
  const minutes = (Date.parse(session.stoppedAt) - Date.parse(session.startedAt)) / 60000;
  return Number.isFinite(minutes) && minutes >= 0 ? Math.round(minutes * 10) / 10 : undefined;
}

function cell(value: unknown, separator: string, decimal: string): string {
  if (value === undefined || value === null) return '';
  let text = typeof value === 'number' && decimal === ',' ? String(value).replace('.', ',') : String(value);
  if (/^[=+\-@\t\r]/.test(text) && typeof value === 'string') text = `'${text}`;
  return text.includes(separator) || /["\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
