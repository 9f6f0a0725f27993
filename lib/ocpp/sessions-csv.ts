import type { SessionRecord } from './central-state';

export interface SessionsCsvOptions {
  /** `,` by default; `;` for spreadsheets set up for a decimal comma. */
  separator?: ',' | ';' | '\t';
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
] as const;

/**
 * The charge data records as CSV, one line per finished session, for facility staff who bill
 * from a spreadsheet. Cells that a spreadsheet would take for a formula (an identity such as
 * `+49*839*0000000001`, an id tag starting with `=`) are prefixed with an apostrophe, as the
 * OWASP advice on CSV injection recommends, so they show as text.
 */
export async function sessionsCsv(sessions: AsyncIterable<SessionRecord>, options: SessionsCsvOptions = {}) {
  const separator = options.separator ?? ',';
  const fromMs = options.from === undefined ? undefined : Date.parse(options.from);
  const toMs = options.to === undefined ? undefined : Date.parse(options.to);
  const lines = [COLUMNS.map(([, title]) => cell(title, separator)).join(separator)];
  for await (const session of sessions) {
    const stoppedMs = Date.parse(session.stoppedAt);
    if (fromMs !== undefined && stoppedMs < fromMs) continue;
    if (toMs !== undefined && stoppedMs >= toMs) continue;
    const row = { ...session, durationMinutes: durationMinutes(session) } as Record<string, unknown>;
    lines.push(COLUMNS.map(([key]) => cell(row[key], separator)).join(separator));
  }
  return `${lines.join('\r\n')}\r\n`;
}

function durationMinutes(session: SessionRecord): number | undefined {
  if (!session.startedAt) return undefined;
  const minutes = (Date.parse(session.stoppedAt) - Date.parse(session.startedAt)) / 60000;
  return Number.isFinite(minutes) && minutes >= 0 ? Math.round(minutes * 10) / 10 : undefined;
}

function cell(value: unknown, separator: string): string {
  if (value === undefined || value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && typeof value === 'string') text = `'${text}`;
  return text.includes(separator) || /["\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
