import assert from 'node:assert/strict';
import { harness } from './support';

/**
 * A charger the load manager cannot limit (it refused every way, or never answered) with no car
 * (issue 39): its own fallback stays reserved while a car can start there (nothing sheds in the
 * second between a plug-in and the car's first amps); the connector made Unavailable frees it.
 */
describe('LoadManager: an uncontrollable charger with no car', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  it('reserves its fallback while a car can start there, nothing while it is Unavailable, and says how to free the line', () => {
    h = harness({
      circuits: [{ id: 'line', limitA: 40 }],
      connectors: ['A', 'B', 'C'].map((id) => ({ chargePointId: id, circuit: 'line', maxA: 32 })),
    });
    h.start();
    h.obey('A/1');
    h.obey('B/1');
    h.plugIn('A/1');
    h.plugIn('B/1');
    h.state('C/1', {
      status: 'Available',
      limitFailed: { limitA: 20, since: h.iso(), why: 'refused SetChargingProfile (TxProfile)' },
    });
    h.run(120_000);
    // 40 − 32 (C's own fallback, its maximum) = 8 A: one car at 8 A, the other paused.
    assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [8, 0]);
    assert.match(
      h.setPoint('C/1')?.reason ?? '',
      /its limit failed \(refused SetChargingProfile \(TxProfile\)\): not under control, counted at its own fallback while a car can start there; make the connector Unavailable \(ChangeAvailability Inoperative\) to free that current until its limits work \(32 A\); idle: Available/,
    );
    // Made Unavailable (by a flow or the operator): no charge can start there.
    h.state('C/1', { status: 'Unavailable' });
    h.run(120_000);
    assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [20, 20]);
    assert.match(h.setPoint('C/1')?.reason ?? '', /Unavailable, no charge can start there: nothing reserved/);
    // Available again: reserved at once, the others decreased in the same update.
    h.state('C/1', { status: 'Available' });
    assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [8, 0]);
  });
});
