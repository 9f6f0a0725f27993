import assert from 'node:assert/strict';
import type { SetPoint } from '../../../lib/contracts';
import { type PvCarNow, pvLossShares } from '../../../sim/pv-losses';

describe('PV day loss accounting', () => {
  const setPoint = (id: string, limitA: number, phases: 1 | 3, reason: string): SetPoint => ({
    chargePointId: id,
    connectorId: 1,
    limitA,
    phases,
    reason,
  });
  const car = (key: string, offeredA: number, phases: number, carMaxW: number, drawW: number): PvCarNow => ({
    key,
    offeredA,
    phases,
    carMaxW,
    drawW,
  });

  it('shares a lost second among the cars that could have taken more, each by what holds it', () => {
    const shares = pvLossShares(
      [car('WB-1/1', 0, 1, 11_040, 0), car('WB-2/1', 20, 1, 7_360, 4_600)],
      [
        setPoint('WB-1', 0, 1, 'pv: waiting, the cars charging take the surplus (2000 W; ...)'),
        setPoint('WB-2', 20, 1, 'limited: unbalance limit of house connection'),
      ],
      (key) => (key === 'WB-1/1' ? 16 : 32),
      1_000,
    );
    // Either could have taken the whole 1000 W: half each, not all on the first in site order.
    assert.deepEqual(shares, { othersTake: 500, limit: 500 });
  });

  it('weighs a car that could take only part of the loss by that part', () => {
    const shares = pvLossShares(
      [car('WB-1/1', 16, 1, 11_040, 3_680), car('WB-2/1', 31, 1, 7_360, 7_130)],
      [setPoint('WB-1', 16, 1, 'maximum 16 A'), setPoint('WB-2', 31, 1, 'ramping up to 32 A')],
      () => 16,
      690,
    );
    assert.deepEqual(shares, { onePhaseMax: 690 * (690 / 920), pacing: 690 * (230 / 920) });
  });

  it('puts a loss no car explains on the margin', () => {
    assert.deepEqual(
      pvLossShares([car('WB-1/1', 6, 1, 0, 0)], [], () => 16, 100),
      { margin: 100 },
    );
  });
});
