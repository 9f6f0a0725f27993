import { REASON_WORDS } from '../../lib/dlm/words';

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
]);

/** Every word of the English catalogue (the statuses' OCPP names aside): what must not show in German. */
const ENGLISH = new Set(
  Object.values(REASON_WORDS)
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
