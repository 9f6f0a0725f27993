const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const HAS_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/;

/** A timestamp as toISOString writes it, hour 24 excluded: already in the form it is read into. */
const CANONICAL = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The time of a timestamp in toISOString's own form, or undefined where writing it again could
 * give other text (a day the month does not have, which Date rolls over into the next month).
 */
function canonicalMs(text: string): number | undefined {
  const parts = CANONICAL.exec(text);
  if (!parts) return undefined;
  const year = Number(parts[1]);
  const month = Number(parts[2]);
  const day = Number(parts[3]);
  if (month < 1 || month > 12 || day < 1) return undefined;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (DAYS_IN_MONTH[month - 1] as number) + (leap ? 1 : 0)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Reads a timestamp a charger sent. Only ISO 8601 date-times count (JavaScript would read other
 * text in the machine's local time); one without an offset is taken as UTC, which OCPP 1.6
 * recommends (section 3.14). Undefined when the text is not such a timestamp.
 */
export function parseTimestamp(value: unknown): { iso: string; ms: number; hadOffset: boolean } | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  // Most chargers write what toISOString writes: nothing to write again.
  const ms = canonicalMs(text);
  if (ms !== undefined) return { iso: text, ms, hadOffset: true };
  if (!ISO_DATE_TIME.test(text)) return undefined;
  const hadOffset = HAS_OFFSET.test(text);
  const time = new Date(hadOffset ? text : `${text}Z`);
  const timeMs = time.getTime();
  return Number.isNaN(timeMs) ? undefined : { iso: time.toISOString(), ms: timeMs, hadOffset };
}

/** The timestamp as ISO 8601 UTC, or `fallback` when it is not one. */
export function timestampOr(value: unknown, fallback: string): string {
  return parseTimestamp(value)?.iso ?? fallback;
}
