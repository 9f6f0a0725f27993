/**
 * The site's time zone and the clock times in the load manager's words (issue 39). The one owner
 * of how a time reads in a reason (`07:00`, `2026-11-27 07:00` when not within a day): in the
 * site's zone (an IANA name such as `Europe/Berlin`), not the Node-RED process's (Node-RED in
 * Docker runs in UTC unless TZ is set, and a facility manager in Berlin reads the plan's hours).
 */

/** The Node-RED process's zone: the default of a site that names none. */
export function processTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The formatter of `timeZone` (made once per zone: making one costs far more than using it). */
function formatOf(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(timeZone, format);
  }
  return format;
}

/**
 * The zone a site config names (`timeZone`), as Intl spells it, or the process's zone when it
 * names none; a name Intl does not know is a problem naming `field`.
 */
export function readTimeZone(
  value: unknown,
  field: string,
  problem: (field: string, message: string) => void,
): string {
  if (value === undefined || value === null || value === '') return processTimeZone();
  if (typeof value !== 'string') {
    problem(field, `expected an IANA time zone name such as "Europe/Berlin", got ${JSON.stringify(value)}`);
    return processTimeZone();
  }
  try {
    return formatOf(value.trim()).resolvedOptions().timeZone;
  } catch {
    problem(field, `"${value}" is no time zone this Node.js knows (an IANA name such as "Europe/Berlin")`);
    return processTimeZone();
  }
}

/** `07:00` in `timeZone`, with the date (`2026-11-27 07:00`) when not within a day of `now`. */
export function clockTime(atMs: number, now: number, timeZone: string): string {
  const parts: Record<string, string> = {};
  for (const part of formatOf(timeZone).formatToParts(atMs)) parts[part.type] = part.value;
  const time = `${parts.hour}:${parts.minute}`;
  return atMs - now < 86_400_000 ? time : `${parts.year}-${parts.month}-${parts.day} ${time}`;
}
