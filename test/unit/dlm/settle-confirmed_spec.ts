import assert from 'node:assert/strict';
import { harness } from './support';

/**
 * A decrease no reading of the charger shows (a charger that sends no MeterValues, status messages
 * only) is settled by its follow time alone (evidence/overdraw.ts settleDecrease). Where the
 * charger's limits are confirmed (`limitInForce`, from the charging-profile node), that time counts
 * only from the confirmation of a limit within the new set-point (evidence/follow-from.ts): a
 * SetChargingProfile answered late, or queued behind a slow call, must not let the others' increases
 * out while the charger still draws its old limit.
 */
type Harness = ReturnType<typeof harness>;

/** A and B on a 32 A circuit, 16 A each; A reports no currents, B draws its limit. */
function aQuietBDraws(aConfirms: boolean): Harness {
  const h = harness({
    circuits: [{ id: 'sub', limitA: 32 }],
    connectors: [
      { chargePointId: 'A', circuit: 'sub' },
      { chargePointId: 'B', circuit: 'sub' },
    ],
    control: { rampUpAPerS: 100, minUpdateIntervalMs: 1000 },
  });
  h.start();
  h.plugIn('A/1', {}, 'Charging');
  h.plugIn('B/1');
  let confirmedA: number | undefined;
  h.feed(() => {
    const a = h.limit('A/1') ?? 0;
    if (aConfirms && confirmedA === undefined && a > 0) {
      confirmedA = a;
      h.state('A/1', { limitInForce: { limitA: a, since: h.iso(), confirmedAt: h.iso() } });
    }
    const b = h.limit('B/1') ?? 0;
    h.draw('B/1', [b, b, b]);
  });
  h.run(120_000);
  assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [16, 16]);
  return h;
}

/** When B was first sent `limitA`, ms after `fromMs` (undefined: never). */
function raisedAfter(h: Harness, limitA: number, fromMs: number): number | undefined {
  const at = h.sentTo('B/1').find((s) => s.limitA === limitA && s.atMs > fromMs)?.atMs;
  return at === undefined ? undefined : at - fromMs;
}

describe('LoadManager: a decrease settled by time alone counts from its confirmation', () => {
  let h: Harness | undefined;
  afterEach(() => h?.stop());

  it('holds the others until a late confirmation of the decrease, then its follow time', () => {
    h = aQuietBDraws(true);
    const decreasedAt = h.clock.now();
    h.manager.command({ type: 'priority', chargePointId: 'B', priority: 10 });
    assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [6, 16], 'the decrease at once, the increase held');
    // A's answer is late (its command queued behind a slow call): 70 s, past its 60 s follow time.
    h.run(70_000);
    assert.equal(h.limit('B/1'), 16, 'no increase on the current A may still draw before it took its limit');
    assert.match(h.setPoint('B/1')?.reason ?? '', /waiting for A\/1 to follow a decrease/);
    const confirmedAt = h.clock.now();
    h.state('A/1', { limitInForce: { limitA: 6, since: h.iso(), confirmedAt: h.iso() } });
    h.run(59_000);
    assert.equal(h.limit('B/1'), 16, 'A may take its follow time to apply the limit it took');
    h.run(2_000);
    assert.equal(h.limit('B/1'), 26);
    const after = raisedAfter(h, 26, decreasedAt) ?? Number.NaN;
    assert.ok(after >= confirmedAt - decreasedAt + 60_000, `raised ${after} ms after the decrease`);
  });

  it('a confirmation of a limit above the new set-point does not count', () => {
    h = aQuietBDraws(true);
    h.manager.command({ type: 'priority', chargePointId: 'B', priority: 10 });
    assert.equal(h.limit('A/1'), 6);
    // An older command's answer (16 A) arrives after the decrease went out.
    h.run(2_000);
    h.state('A/1', { limitInForce: { limitA: 16, since: h.iso(), confirmedAt: h.iso() } });
    h.run(120_000);
    assert.equal(h.limit('B/1'), 16);
  });

  it('a limit the charger already held, confirmed again at once, settles on the follow time from the decrease', () => {
    h = aQuietBDraws(true);
    const decreasedAt = h.clock.now();
    h.manager.command({ type: 'priority', chargePointId: 'B', priority: 10 });
    // The charging-profile node sends nothing (a duplicate) and confirms the limit at once; the
    // charger has held it since its last answer, before the decrease.
    h.state('A/1', {
      limitInForce: { limitA: 6, since: new Date(decreasedAt - 5_000).toISOString(), confirmedAt: h.iso() },
    });
    h.run(62_000);
    assert.equal(h.limit('B/1'), 26);
    assert.equal(raisedAfter(h, 26, decreasedAt), 60_000);
  });

  it('where the charger never confirmed a limit, time alone settles it after the follow time (as before)', () => {
    h = aQuietBDraws(false);
    const decreasedAt = h.clock.now();
    h.manager.command({ type: 'priority', chargePointId: 'B', priority: 10 });
    h.run(59_000);
    assert.equal(h.limit('B/1'), 16);
    h.run(2_000);
    assert.equal(h.limit('B/1'), 26);
    assert.equal(raisedAfter(h, 26, decreasedAt), 60_000);
  });

  it('a charger whose limit failed is not waited for: counted at what it may draw on its own, the others are not held for ever', () => {
    h = aQuietBDraws(true);
    h.manager.command({ type: 'priority', chargePointId: 'B', priority: 10 });
    h.run(5_000);
    h.state('A/1', { limitFailed: { limitA: 6, why: 'no answer in time', since: h.iso() } });
    h.run(120_000);
    assert.doesNotMatch(h.setPoint('B/1')?.reason ?? '', /waiting for A\/1 to follow a decrease/);
  });
});
