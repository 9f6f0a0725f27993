import { REASON_WORDS, type Said, STATUS_WORDS } from '../../lib/dlm/words';

/**
 * A reason's English text read back into keys and parameters against the catalogue: for texts that
 * come from outside the load manager (the docs' printed reasons), never for what a stage made (it
 * makes its keys itself: lib/dlm/words.ts `say`).
 */

interface Pattern {
  key: string;
  regex: RegExp;
  names: string[];
  lead: number;
  fixed: number;
}

/** The catalogue as patterns, the most specific first. */
const PATTERNS: readonly Pattern[] = Object.entries(
  REASON_WORDS as Record<string, { en: string; de: string }>,
)
  .filter(([key]) => key !== 'text')
  .map(([key, { en }]) => {
    const names: string[] = [];
    const source = en
      .split(/(\{\w+\})/)
      .map((piece) => {
        const name = /^\{(\w+)\}$/.exec(piece)?.[1];
        if (name === undefined) return piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(name);
        return '(.+?)';
      })
      .join('');
    const lead = en.indexOf('{') < 0 ? en.length : en.indexOf('{');
    return { key, regex: new RegExp(`^${source}$`), names, lead, fixed: en.replace(/\{\w+\}/g, '').length };
  })
  // A template that is a parameter alone (an OCPP name) matches any text: a text is never read as one.
  .filter((pattern) => pattern.fixed > 0)
  // A fixed beginning first ("fallback: {why}, {whatList}" before "{amps} A per connector", which
  // would take the whole fallback for its amperes), then the most fixed text.
  .sort((a, b) => b.lead - a.lead || b.fixed - a.fixed);

/** A reason's parts: split on `; ` outside parentheses. */
function partsOf(text: string): string[] {
  return splitOutside(text, '; ');
}

function splitOutside(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0 && text.startsWith(separator, i)) {
      parts.push(text.slice(start, i));
      start = i + separator.length;
    }
  }
  parts.push(text.slice(start));
  return parts.filter((part) => part !== '');
}

function readPart(part: string): Said | undefined {
  if ((STATUS_WORDS as Record<string, unknown>)[part]) return { key: `status.${part}` };
  for (const pattern of PATTERNS) {
    const match = pattern.regex.exec(part);
    if (!match) continue;
    // One that begins with a parameter ("{why} on {circuit}") takes a text of another kind whole
    // unless that parameter is a name or a reason of the catalogue: a name has no ": ".
    const first = match[1] ?? '';
    if (pattern.lead === 0 && first.includes(': ') && !readWhole(first)) continue;
    const params: Record<string, string | Said[]> = {};
    pattern.names.forEach((name, i) => {
      const value = match[i + 1] ?? '';
      const inner = /^-?[\d.,/ ]+$/.test(value)
        ? undefined
        : name.endsWith('List')
          ? readList(value)
          : readWhole(value);
      params[name] = inner ?? value;
    });
    return pattern.names.length === 0 ? { key: pattern.key } : { key: pattern.key, params };
  }
  return undefined;
}

/** A `{…List}` parameter (`a, b`): one part per item when every item is in the catalogue. */
function readList(text: string): Said[] | undefined {
  const items: Said[] = [];
  for (const item of splitOutside(text, ', ')) {
    const one = readPart(item);
    if (!one) return undefined;
    items.push(one);
  }
  return items;
}

/** A text read as parts when every part is in the catalogue; undefined otherwise. */
function readWhole(text: string): Said[] | undefined {
  const said: Said[] = [];
  for (const part of partsOf(text)) {
    const one = readPart(part);
    if (!one) return undefined;
    said.push(one);
  }
  return said.length > 0 ? said : undefined;
}

/**
 * A reason in keys and parameters. A part the catalogue does not know is kept as `{ key: 'text',
 * params: { text } }` (shown as it came, in English).
 */
export function reasonWords(reason: string): Said[] {
  return partsOf(reason).map((part) => readPart(part) ?? { key: 'text', params: { text: part } });
}
