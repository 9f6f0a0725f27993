const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const HAS_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The number of the two decimal digits at `at`; NaN if either is not one. */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - 48;
  const ones = text.charCodeAt(at + 1) - 48;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : Number.NaN;
}

/** Days from 1970-01-01 to a date of the proleptic Gregorian calendar (month 1-12), as Date counts them. */
function daysFromEpoch(year: number, month: number, day: number): number {
  // Years counted from March, so that the leap day is the last day of its year.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/**
 * The time of a timestamp in toISOString's own form `YYYY-MM-DDTHH:mm:ss.sssZ` (hour 24
 * excluded), or undefined where it is not in that form or writing it again could give other text
 * (a day the month does not have, which Date rolls over into the next month). Read digit by digit
 * and counted in whole numbers: nearly every timestamp a charger sends is in this form, and
 * Date.parse costs about ten times as much, Date.UTC twice as much (bench:throughput).
 */
function canonicalMs(text: string): number | undefined {
  if (
    text.length !== 24 ||
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 || // T
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58 ||
    text.charCodeAt(19) !== 46 || // .
    text.charCodeAt(23) !== 90 // Z
  )
    return undefined;
  const year = twoDigits(text, 0) * 100 + twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  const lastDigit = text.charCodeAt(22) - 48;
  const ms = twoDigits(text, 20) * 10 + (lastDigit >= 0 && lastDigit <= 9 ? lastDigit : Number.NaN);
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
  return ((daysFromEpoch(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + ms;
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
