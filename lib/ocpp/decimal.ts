/**
 * Reads the decimal text of a "Raw" sampled value (OCPP 1.6 section 7.43: a decimal with a point,
 * an exponent allowed, surrounding whitespace allowed). Pure.
 */

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** 10^0 .. 10^22: every one is exactly a double. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);
/** Digits whose value is below 2^53 whatever they are: such a mantissa is exactly a double. */
const EXACT_DIGITS = 15;

/**
 * The number a decimal text writes, or NaN when it is not one (a comma, hex, `NaN`, `Infinity`,
 * an empty text) or does not fit a double (`1e999`).
 *
 * What chargers send (`'11040'`, `'230.5'`) is read in one pass over its characters: at most 15
 * digits and no exponent make a mantissa and a power of ten that are both exact doubles, so one
 * division rounds as Number() does (correctly). Anything else goes to the pattern and Number().
 * The two ways give the same double (test/unit/ocpp/decimal_spec.ts checks them against each other).
 */
export function decimalValue(text: string): number {
  const length = text.length;
  const sign = text.charCodeAt(0);
  const negative = sign === 45; // -
  let at = negative || sign === 43 ? 1 : 0; // +
  let mantissa = 0;
  let digits = 0;
  let fraction = -1;
  for (; at < length; at++) {
    const code = text.charCodeAt(at);
    const digit = code - 48;
    if (digit >= 0 && digit <= 9) {
      mantissa = mantissa * 10 + digit;
      digits++;
    } else if (code === 46 && fraction < 0) {
      fraction = digits; // .
    } else {
      return slowly(text);
    }
  }
  if (digits === 0 || digits > EXACT_DIGITS) return slowly(text);
  const value = fraction < 0 ? mantissa : mantissa / (POWERS_OF_TEN[digits - fraction] as number);
  return negative ? -value : value;
}

function slowly(raw: string): number {
  const text = raw.trim();
  if (!DECIMAL.test(text)) return Number.NaN;
  const value = Number(text);
  return Number.isFinite(value) ? value : Number.NaN;
}
