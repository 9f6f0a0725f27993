/**
 * Whole-amp chargers (issue 39): a charger that takes only whole amperes (Schneider EVlink's
 * maxIntensitySocket; the charging-profile node rounds its limits down to them) is given whole
 * amperes (ConnectorConfig.stepA: 1), and what that leaves goes to the others. Before, the load
 * manager gave it 6.1 A, the charger took 6 A, the 0.1 A went to nobody, and its reason said
 * "ramping up to 6.1 A" for minutes (a rise smaller than minChangeA waits until it is worth it).
 */
import assert from 'node:assert/strict';
import type { SiteConfig } from '../../../lib/dlm/site';
import { harness } from './support';

const EVLINKS = ['E1', 'E2', 'E3', 'E4', 'E5'];
const OTHERS = ['O1', 'O2', 'O3', 'O4', 'O5'];

/** The step as the charging-profile node tells it for an EVlink preset (`ConnectorState.limitStep`). */
const EVLINK_STEP = { stepA: 1, why: 'schneider-evlink-r4-r5: maxIntensitySocket takes whole amperes' };

/**
 * Ten cars on 61 A, five on whole-amp chargers: `stepA` in the site for them (`fromSite`), else
 * the step their charging-profile node's preset tells (`limitStep` on their connector state).
 */
function zone(extra: Partial<SiteConfig> = {}, from: 'site' | 'preset' = 'site', siteStepA = 1) {
  const h = harness({
    circuits: [{ id: 'zone', limitA: 61 }],
    connectors: [
      ...EVLINKS.map((id) => ({
        chargePointId: id,
        circuit: 'zone',
        ...(from === 'site' ? { stepA: siteStepA } : {}),
      })),
      ...OTHERS.map((id) => ({ chargePointId: id, circuit: 'zone' })),
    ],
    unbalanceLimitA: null,
    ...extra,
  });
  h.start();
  if (from === 'preset' || siteStepA !== 1)
    for (const id of EVLINKS) h.state(`${id}/1`, { limitStep: EVLINK_STEP });
  // Each charger draws what it is told, the EVlinks rounded down to whole amperes.
  for (const id of [...EVLINKS, ...OTHERS]) {
    const key = `${id}/1`;
    h.plugIn(key);
    h.feed(() => {
      const limit = h.limit(key) ?? 0;
      const drawn = EVLINKS.includes(id) ? Math.floor(limit) : limit;
      h.draw(key, [drawn, drawn, drawn], drawn > 0 ? 'Charging' : 'SuspendedEVSE');
    });
  }
  return h;
}

describe('dlm: chargers that take only whole amperes', () => {
  for (const softStart of [false, true]) {
    it(`are given whole amperes, the rest goes to the others, and their reason can be reached (softStart ${softStart})`, () => {
      const h = zone({ control: { softStart } });
      h.run(600_000);
      const limits = (ids: string[]) => ids.map((id) => h.limit(`${id}/1`) ?? 0);
      // 61 A for ten cars: 6.1 A each; the EVlinks take 6 A, so the others get 31 A / 5 = 6.2 A.
      assert.deepEqual(limits(EVLINKS), [6, 6, 6, 6, 6]);
      assert.deepEqual(limits(OTHERS), [6.2, 6.2, 6.2, 6.2, 6.2]);
      for (const id of EVLINKS) {
        assert.equal(h.setPoint(`${id}/1`)?.reason, 'limited: zone L1 is full');
        for (const sent of h.sentTo(`${id}/1`))
          assert.equal(sent.limitA, Math.floor(sent.limitA), `${id} sent ${sent.limitA} A`);
      }
      h.stop();
    });
  }

  it('take the step their charging-profile node says (its EVlink preset), with no stepA in the site', () => {
    const h = zone({}, 'preset');
    h.run(600_000);
    const limits = (ids: string[]) => ids.map((id) => h.limit(`${id}/1`) ?? 0);
    assert.deepEqual(limits(EVLINKS), [6, 6, 6, 6, 6]);
    assert.deepEqual(limits(OTHERS), [6.2, 6.2, 6.2, 6.2, 6.2]);
    for (const id of EVLINKS) {
      assert.equal(h.setPoint(`${id}/1`)?.reason, 'limited: zone L1 is full');
      for (const sent of h.sentTo(`${id}/1`))
        assert.equal(sent.limitA, Math.floor(sent.limitA), `${id} sent ${sent.limitA} A`);
    }
    h.stop();
  });

  it("a connector's stepA in the site wins over the step its charging-profile node says", () => {
    // 0.5 A in the site, 1 A from the preset: 66 A for ten cars is 6.6 A, 6.5 A in steps of 0.5 A (6 A in whole ones).
    const h = zone({ circuits: [{ id: 'zone', limitA: 66 }] }, 'site', 0.5);
    h.run(600_000);
    assert.deepEqual(
      EVLINKS.map((id) => h.limit(`${id}/1`)),
      [6.5, 6.5, 6.5, 6.5, 6.5],
    );
    h.stop();
  });

  it('ignores a step from a connector state that is not a current', () => {
    const h = zone({}, 'preset');
    h.state('E1/1', { limitStep: { stepA: Number.NaN, why: 'x' } });
    h.state('E2/1', { limitStep: { stepA: 0.01, why: 'x' } });
    assert.ok(
      h.logged.some((line) => /E1\/1 limitStep\.stepA: NaN is not a number/.test(line)),
      h.logged.join('\n'),
    );
    assert.ok(
      h.logged.some((line) => /E2\/1 limitStep\.stepA: 0\.01 A is not a step/.test(line)),
      h.logged.join('\n'),
    );
    h.stop();
  });

  it('refuses a step that is not a current', () => {
    assert.throws(
      () =>
        harness({
          circuits: [{ id: 'zone', limitA: 61 }],
          connectors: [{ chargePointId: 'E1', circuit: 'zone', stepA: 0 }],
        }),
      /connector "E1\/1" stepA/,
    );
  });
});
