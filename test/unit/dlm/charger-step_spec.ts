import assert from 'node:assert/strict';
import type { PerPhase } from '../../../lib/contracts';
import { harness } from './support';

/**
 * A charger's own step learned from what it says it offers (evidence/charger-step.ts): a 63 A zone
 * whose meter counts the other loads only (none), four cars that take what they are offered.
 * Charger A takes whole amperes only (as Schneider EVlink does) and says so in `Current.Offered`
 * (`offeredCurrentA`); the others take tenths.
 */
describe("LoadManager: a charger's whole-ampere step, learned from what it offers", () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  it('gives a charger seen offering the whole ampere below its set-point whole amperes, and the rest to the others', () => {
    h = harness({
      circuits: [{ id: 'zone', limitA: 63, meter: { source: 'zone', location: 'otherLoadsOnly' } }],
      connectors: ['A', 'B', 'C', 'D'].map((chargePointId) => ({ chargePointId, circuit: 'zone', maxA: 32 })),
    });
    h.feed(() => {
      for (const id of ['A', 'B', 'C', 'D']) {
        const sent = h.limit(`${id}/1`) ?? 0;
        const offered = id === 'A' ? Math.floor(sent + 1e-9) : sent;
        const a = offered >= 6 ? offered : 0;
        h.state(`${id}/1`, {
          status: a > 0 ? 'Charging' : 'SuspendedEVSE',
          currentA: [a, a, a] as PerPhase,
          offeredCurrentA: offered,
        });
      }
      h.meter('zone', [0, 0, 0]);
    });
    h.start();
    for (const id of ['A', 'B', 'C', 'D']) h.plugIn(`${id}/1`);
    h.run(600_000);
    const trail = h
      .sentTo('A/1')
      .map((s) => `${s.limitA} ${s.reason}`)
      .join(' | ');
    // 63 A for four: 15.7 A each, of which A's charger gives its car 15 A. Learned: A gets 15 A,
    // the others the 48 A left, 16 A each.
    assert.equal(h.limit('A/1'), 15, trail);
    for (const id of ['B', 'C', 'D']) assert.equal(h.limit(`${id}/1`), 16, id);
  });
});
