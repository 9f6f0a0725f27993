import assert from 'node:assert/strict';
import { parseTimestamp } from '../../lib/time';

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
