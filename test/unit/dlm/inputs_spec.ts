import assert from 'node:assert/strict';
import type { ConnectorState } from '../../../lib/contracts';
import { sameData, sanitizeConnectorState } from '../../../lib/dlm/inputs';

describe('load manager inputs: connector states', () => {
  const state = (): ConnectorState => ({
    chargePointId: 'CP',
    connectorId: 1,
    online: true,
    currentA: [16, 16, null],
    transaction: { transactionId: 7, idTag: 'T', startedAt: '2026-01-01T00:00:00.000Z', meterStartWh: 5 },
    limitInForce: { limitA: 16, since: '2026-01-01T00:00:00.000Z', confirmedAt: '2026-01-01T00:00:01.000Z' },
  });

  it('keeps a copy: the sender may change its own state afterwards', () => {
    const input = state();
    const kept = sanitizeConnectorState(input, []);
    assert.deepEqual(kept, input);
    (input.currentA as (number | null)[])[0] = 32;
    (input.transaction as { idTag: string }).idTag = 'other';
    assert.deepEqual(kept.currentA, [16, 16, null]);
    assert.equal(kept.transaction?.idTag, 'T');
  });

  it('compares plain data by content; anything else only as itself', () => {
    assert.equal(sameData(state(), state()), true);
    const other = state();
    (other.currentA as (number | null)[])[2] = 0;
    assert.equal(sameData(state(), other), false);
    assert.equal(sameData({ a: 1 }, { a: 1, b: undefined }), false);
    assert.equal(sameData([1, 2], [1, 2, 3]), false);
    assert.equal(sameData([1], { 0: 1 }), false);
    assert.equal(sameData(Number.NaN, Number.NaN), false, 'not a number is never the same input');
    const date = new Date(0);
    assert.equal(sameData(date, date), true);
    assert.equal(sameData(new Date(0), new Date(0)), false);
  });
});
