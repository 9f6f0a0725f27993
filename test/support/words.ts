import {
  ANSWER_WORDS,
  COMMAND_WORDS,
  REASON_WORDS,
  type Reason,
  type Said,
  STATUS_WORDS,
  say,
  sayStatus,
} from '../../lib/dlm/words';

/**
 * Words an English text and a German one share, not English left untranslated: names, units,
 * standards, and words German has too.
 */
const SHARED = new Set([
  'a',
  'w',
  'kw',
  'kwh',
  'wh',
  's',
  'l',
  'pv',
  'it',
  'iso',
  'ocpp',
  'ampflow',
  'minimum',
  'maximum',
  'offline',
  'suspendedev',
  'suspendedevse',
  'control',
  'holdkeptlimits',
  'house',
  'start',
  'phase',
  'backend',
  'plus',
  'plan',
  'status',
  'last',
  'so',
  'in',
  'h',
  'gateway',
  'min',
  'unavailable',
  'changeavailability',
  'inoperative',
  // German words too (`was`: what; `an`: at; a serial adapter; a meter's registers), a unit and a checksum.
  'was',
  'an',
  'bus',
  'adapter',
  'register',
  'ms',
  'crc',
]);

/**
 * Every word of the English catalogue (the connector states' OCPP names aside; the commands'
 * answers and notices too): what must not show in German.
 */
const ENGLISH = new Set(
  [...Object.values(REASON_WORDS), ...Object.values(ANSWER_WORDS), ...Object.values(COMMAND_WORDS)]
    .flatMap(({ en }) => wordsOf(en.replace(/\{\w+\}/g, ' ')))
    .filter((word) => !SHARED.has(word)),
);

function wordsOf(text: string): string[] {
  // Field names (`offlineA`, `fallback.otherLoadA`, `control.holdKeptLimits`) are the same in both.
  const words = text.replace(/\b[\w.]*[a-z][A-Z][\w.]*\b|\b\w+\.\w+\b/g, ' ');
  return (words.toLowerCase().match(/[a-zäöüß]+/g) ?? []).filter((word) => word.length > 0);
}

export function englishIn(german: string): string[] {
  return wordsOf(german).filter((word) => ENGLISH.has(word));
}

/** Whether a text has a word of the English catalogue that German does not share (none: an empty list). */
export function englishWordsIn(text: string): string[] {
  return [...new Set(englishIn(text))];
}

/** The `{name}`s of a template, sorted. */
export function namesOf(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();
}

/** A parameter's sample, as the stages fill them in: a number, a name, a time, or a reason of its own. */
function sample(name: string): string | Reason {
  if (name.endsWith('List')) return [say('withPvThen'), say('atLeastBelow')];
  if (name === 'status') return [sayStatus('Available')];
  if (name === 'field') return [say('modeField')];
  if (name === 'planned') return [say('planned', { kWh: '7.8 kWh' })];
  if (name === 'source') return [say('meterOf', { name: 'm1', circuit: 'house' })];
  if (['why', 'minWhy', 'what', 'plan', 'detail', 'error', 'violations'].includes(name))
    return [say('notEnoughCurrent')];
  if (name === 'action' || name === 'other') return [say('ocppName', { name: 'SetChargingProfile' })];
  if (name === 'within') return '30 s';
  if (name === 'circuit') return 'house';
  if (name === 'time' || name === 'at') return '07:00';
  if (name === 'price' || name === 'limit') return '0.10 €/kWh';
  if (name === 'names' || name === 'key' || name === 'connector') return 'CP-1/1';
  if (name === 'phases') return 'L1-L3';
  if (name === 'duration') return '2 h';
  if (name === 'expression') return '$x';
  if (name === 'text') return 'P1';
  if (name === 'n' || name === 'phase') return '2';
  return '7.8';
}

/**
 * Every key of the reasons' catalogue with samples for its parameters, and every OCPP state as a
 * reason names it (`status.Available`) and as a table shows it (`state.Available`): what a dashboard words.
 */
export function everyKey(): Said[] {
  return [
    ...Object.entries(REASON_WORDS as Readonly<Record<string, { en: string }>>).map(([key, { en }]) => {
      const names = namesOf(en);
      return names.length === 0
        ? { key }
        : { key, params: Object.fromEntries(names.map((name) => [name, sample(name)])) };
    }),
    ...Object.keys(STATUS_WORDS).flatMap((status) => [sayStatus(status), { key: `state.${status}` }]),
  ];
}
