import assert from 'node:assert/strict';
import type { LimitReport, VerificationReport } from '../../../lib/profiles';
import { limitStatus } from '../../../nodes/profile-status';
import { advance } from '../interop/support';
import { NO_OFFLINE_FALLBACK, setPoint, startCharging, useProfileRig } from './support';

/**
 * Issue 48: the home PV guide prints `7.8 A verified`; the node stayed at `7.8 A sent`. A pv car's
 * limit moves by tenths with the surplus (7.8, 7.7, 7.8 A): each new limit of the session starts
 * unverified, its schedule is read back only every 60 s once the way matched twice, and the meter's
 * verdict, `within` all along, never changed, so nothing verified it.
 */
describe('Profiles: a limit in tenths that moves with the surplus is verified by the meter', () => {
  const { rig } = useProfileRig();

  it('shows `7.8 A verified` while the limit moves between 7.7 and 7.8 A and the car follows', async () => {
    const { cp, manager, clock } = await rig({ manager: NO_OFFLINE_FALLBACK });
    let last: LimitReport | VerificationReport | undefined;
    manager.on('verification', (report: VerificationReport) => {
      last = report;
    });
    await startCharging(cp, 1, { maxCurrentA: 16 });
    [last] = await manager.apply(setPoint(6));
    await advance(cp, clock, 40_000, 10_000);
    assert.equal(last && limitStatus(last).text, '6 A verified');
    // 2 min of limits 10 s apart (the profile node's increase pacing), meter values every 10 s.
    for (let step = 0; step < 12; step++) {
      const [report] = await manager.apply(setPoint(step % 2 === 0 ? 7.7 : 7.8));
      if (report) last = report;
      await advance(cp, clock, 10_000, 10_000);
    }
    assert.equal(cp.connector(1).offeredA, 7.8, 'the simulated charger offers the tenth as given');
    assert.equal(last && limitStatus(last).text, '7.8 A verified');
  });
});
