const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const HAS_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Reads a timestamp a charger sent. Only ISO 8601 date-times count (JavaScript would read other
 * text in the machine's local time); one without an offset is taken as UTC, which OCPP 1.6
 * recommends (section 3.14). Undefined when the text is not such a timestamp.
 */
export function parseTimestamp(value: unknown): { iso: string; ms: number; hadOffset: boolean } | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (!ISO_DATE_TIME.test(text)) return undefined;
  const hadOffset = HAS_OFFSET.test(text);
  const time = new Date(hadOffset ? text : `${text}Z`);
  const ms = time.getTime();
  return Number.isNaN(ms) ? undefined : { iso: time.toISOString(), ms, hadOffset };
}

/** The timestamp as ISO 8601 UTC, or `fallback` when it is not one. */
export function timestampOr(value: unknown, fallback: string): string {
  return parseTimestamp(value)?.iso ?? fallback;
}
