import assert from 'node:assert/strict';
import type { SiteConfig } from '../../../lib/dlm/site';
import { until } from '../../support/events';
import type { EvpowerCharger } from '../../support/evpower-charger';
import { useEvpowerLine } from '../../support/peer-site';

/**
 * A decrease that no reading shows (a charger that sends status messages only, Bender's free
 * charging) is settled by its follow time alone; where the charging-profile node confirms the
 * charger's limits, that time counts from the confirmation of the decrease, not from when the load
 * manager sent it (evidence/follow-from.ts). Here the first charger answers its decrease late (a
 * slow link, a charger that answers late) while a second car arrives: before, the second car's
 * increase went out 2 s after the decrease, while the first still drew its old limit (48 A on 32 A).
 */

const LINE_A = 32;
const ids = ['SLOW-ANSWER', 'SECOND'];
const ANSWER_DELAY_MS = 4_000;
const site: SiteConfig = {
  circuits: [{ id: 'line', limitA: LINE_A }],
  connectors: ids.map((chargePointId) => ({ chargePointId, circuit: 'line', maxA: 32 })),
  unbalanceLimitA: null,
  // The installer's figure: these chargers follow a limit they took within 2 s.
  control: { rampUpAPerS: 1000, minUpdateIntervalMs: 0, decreaseSettleMs: 2_000 },
};

describe('a decrease answered late by a charger with no readings (@evpower/ocpp-ts)', () => {
  const line = useEvpowerLine();

  it('gives the second car nothing of the first one’s current until the first took its decrease', async function () {
    this.timeout(30_000);
    const { wired, chargers, highestA, wake, state } = await line(ids, site);
    const [slow, second] = chargers as [EvpowerCharger, EvpowerCharger];

    await until(() => chargers.every((cp) => cp.limitA(1) === 0), wake, 10_000, state);
    await slow.plugInFree(1, { maxA: 32, phases: 3 });
    await until(() => slow.limitA(1) === 32, wake, 10_000, state);
    // From now on the first charger answers a SetChargingProfile 4 s late, and takes it then.
    slow.answerDelayMs = ANSWER_DELAY_MS;
    const arrivedAt = Date.now();
    await second.plugInFree(1, { maxA: 32, phases: 3 });
    await until(() => slow.limitA(1) === 16 && second.limitA(1) === 16, wake, 20_000, state);
    assert.ok(highestA() <= LINE_A, `the line carried ${highestA()} A`);
    assert.ok(
      Date.now() - arrivedAt >= ANSWER_DELAY_MS,
      'the second car started after the first took its decrease',
    );
    assert.deepEqual(wired.feedErrors, []);
  });
});
