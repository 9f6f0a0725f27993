import assert from 'node:assert/strict';
import { isoMs, parseTimestamp } from '../../lib/time';

describe('parseTimestamp', () => {
  it("reads a timestamp in toISOString's own form as Date does, on every day of leap and common years", () => {
    for (const year of [1900, 2000, 2023, 2024]) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 1; day <= 32; day++) {
          for (const time of ['00:00:00.000', '23:59:59.999', '24:00:00.000', '12:60:00.000']) {
            const text = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T${time}Z`;
            const date = new Date(text);
            const expected = Number.isNaN(date.getTime())
              ? undefined
              : { iso: date.toISOString(), ms: date.getTime(), hadOffset: true };
            assert.deepEqual(parseTimestamp(text), expected, text);
          }
        }
      }
    }
  });

  it('writes other ISO 8601 forms in that form, and reads one without a time zone as UTC', () => {
    assert.deepEqual(parseTimestamp(' 2024-05-01T14:00:00+02:00 '), {
      iso: '2024-05-01T12:00:00.000Z',
      ms: Date.UTC(2024, 4, 1, 12),
      hadOffset: true,
    });
    assert.deepEqual(parseTimestamp('2024-05-01T12:00'), {
      iso: '2024-05-01T12:00:00.000Z',
      ms: Date.UTC(2024, 4, 1, 12),
      hadOffset: false,
    });
    assert.equal(parseTimestamp('1 May 2024'), undefined);
    assert.equal(parseTimestamp(1714564800000), undefined);
  });
});

describe('isoMs', () => {
  it('gives what Date.parse gives, for the common form read digit by digit and for every other text', () => {
    const texts = [
      '2026-11-23T21:06:45.123Z',
      '0000-01-01T00:00:00.000Z',
      '0050-03-01T12:30:15.500Z',
      '0099-12-31T23:59:59.999Z',
      '0100-01-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
      '2024-02-29T00:00:00.000Z',
      '2023-02-29T00:00:00.000Z',
      '2024-13-01T00:00:00.000Z',
      '2024-00-10T00:00:00.000Z',
      '2024-01-00T00:00:00.000Z',
      '2024-01-01T24:00:00.000Z',
      '2024-01-01T23:60:00.000Z',
      '2024-01-01T23:00:60.000Z',
      '2024-01-01T23:00:00.00Z',
      '2024-01-01T23:00:00.0000Z',
      '2024-01-01T23:00:00.000z',
      '2024-01-01 23:00:00.000Z',
      '2024-01-0aT23:00:00.000Z',
      '2024-0/-01T23:00:00.000Z',
      '20a4-01-01T23:00:00.000Z',
      '+02024-01-01T23:00:00.000',
      '2024-05-01T14:00:00+02:00',
      '2024-05-01T12:00:00Z',
      '2024-05-01',
      'not a time at all, 24 ch',
      '',
    ];
    for (const text of texts) {
      assert.deepEqual(isoMs(text), Date.parse(text), text);
      if (Number.isNaN(Date.parse(text))) assert.equal(parseTimestamp(text), undefined, text);
    }
    for (const value of [null, undefined, 0, 1714564800000, {}]) {
      assert.deepEqual(isoMs(value as never), Date.parse(value as never), String(value));
    }
  });

  it('reads the common form itself, without Date.parse, for dates from year 0 to 9999', () => {
    // 2,000 dates spread over years 0-9999 (toISOString writes them in the common form).
    const texts = Array.from({ length: 2000 }, (_, i) =>
      new Date(new Date(0).setUTCFullYear(0, 0, 1) + i * 157_766_400_123).toISOString(),
    );
    assert.ok(
      texts.every((text) => text.length === 24),
      texts.find((text) => text.length !== 24),
    );
    const expected = texts.map((text) => Date.parse(text));
    const parse = Date.parse;
    Date.parse = () => {
      throw new Error('Date.parse called');
    };
    try {
      assert.deepEqual(
        texts.map((text) => isoMs(text)),
        expected,
      );
    } finally {
      Date.parse = parse;
    }
  });
});
