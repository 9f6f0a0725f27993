import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decimalValue } from '../../../lib/ocpp/decimal';

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** What decimalValue must give: the definition, by pattern and Number(), without a fast path. */
function byDefinition(raw: string): number {
  const text = raw.trim();
  const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
  return Number.isFinite(value) ? value : Number.NaN;
}

/** Texts near what chargers send and near the fast path's edges (15 and 16 digits, signs, points). */
const decimalLike = fc
  .array(fc.constantFrom('0', '1', '5', '9', '9', '.', '-', '+', 'e', ' ', ','), { maxLength: 24 })
  .map((chars) => chars.join(''));
const digitRuns = fc
  .tuple(
    fc.constantFrom('', '-', '+'),
    fc.stringMatching(/^\d{0,18}$/),
    fc.constantFrom('', '.'),
    fc.stringMatching(/^\d{0,18}$/),
  )
  .map((parts) => parts.join(''));

describe('decimalValue (a Raw sampled value)', () => {
  it('reads what chargers send', () => {
    assert.equal(decimalValue('11040'), 11040);
    assert.equal(decimalValue('230.5'), 230.5);
    assert.equal(decimalValue('0.1'), 0.1);
    assert.equal(decimalValue('-12.75'), -12.75);
    assert.equal(decimalValue('+3'), 3);
    assert.equal(decimalValue('1.'), 1);
    assert.equal(decimalValue('.5'), 0.5);
    assert.equal(decimalValue(' 16.0 '), 16);
    assert.equal(decimalValue('1.5e3'), 1500);
    assert.ok(Object.is(decimalValue('-0'), -0));
  });

  it('gives NaN for what is not a decimal with a point, or does not fit a double', () => {
    for (const text of [
      '',
      ' ',
      '.',
      '-',
      '+.',
      '230,5',
      '0x10',
      'NaN',
      'Infinity',
      '1e999',
      '1..2',
      '--1',
      '1e',
    ])
      assert.ok(Number.isNaN(decimalValue(text)), text);
  });

  it('rounds as Number() does where the mantissa has 15 digits or more', () => {
    for (const text of [
      '999999999999999',
      '9999999999999999',
      '0.123456789012345',
      '1234567890.12345',
      '9007199254740993',
    ])
      assert.ok(Object.is(decimalValue(text), Number(text)), text);
  });

  it('gives the very double the definition gives, for any text', () => {
    const same = (text: string) => Object.is(decimalValue(text), byDefinition(text));
    fc.assert(fc.property(decimalLike, same), { numRuns: 20_000 });
    fc.assert(fc.property(digitRuns, same), { numRuns: 20_000 });
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (value) => same(String(value)) && same(value.toFixed(3))),
      { numRuns: 20_000 },
    );
    fc.assert(fc.property(fc.string(), same), { numRuns: 5_000 });
  });
});
