const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const HAS_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** Where toISOString's form `YYYY-MM-DDTHH:mm:ss.sssZ` has its separators. */
const SEPARATORS: readonly [number, number][] = [
  [4, 45], // -
  [7, 45], // -
  [10, 84], // T
  [13, 58], // :
  [16, 58], // :
  [19, 46], // .
  [23, 90], // Z
];

/** The number written by the decimal digits from `from` to `to` (exclusive); NaN if any is not one. */
function digits(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i += 1) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * The time of a timestamp in toISOString's own form (hour 24 excluded), or undefined where it is
 * not in that form or writing it again could give other text (a day the month does not have,
 * which Date rolls over into the next month). Read digit by digit: nearly every timestamp a
 * charger sends is in this form, and Date.parse costs about ten times as much (bench:throughput).
 */
function canonicalMs(text: string): number | undefined {
  if (text.length !== 24) return undefined;
  for (const [at, code] of SEPARATORS) if (text.charCodeAt(at) !== code) return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  const second = digits(text, 17, 19);
  const ms = digits(text, 20, 23);
  // NaN fails every comparison below.
  if (
    !(
      year >= 0 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      hour <= 23 &&
      minute <= 59 &&
      second <= 59 &&
      ms >= 0
    )
  ) {
    return undefined;
  }
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (DAYS_IN_MONTH[month - 1] as number) + (leap ? 1 : 0)) return undefined;
  // Date.UTC reads the years 0-99 as 1900-1999; setUTCFullYear does not.
  const time = Date.UTC(year < 100 ? 2000 : year, month - 1, day, hour, minute, second, ms);
  return year < 100 ? new Date(time).setUTCFullYear(year) : time;
}

/**
 * The time of an ISO 8601 text the package wrote or read (UTC): what Date.parse gives, also for
 * a value that is not text (a flow's input may hold anything), without its cost in the common form.
 */
export function isoMs(text: string): number {
  return (typeof text === 'string' ? canonicalMs(text) : undefined) ?? Date.parse(text);
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
