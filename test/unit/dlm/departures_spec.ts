/**
 * A departure frees its current at once (issue 36, item 6): a full 63 A zone, three cars that want
 * 32 A each (21 A each), chargers that confirm their limits (limitInForce, as the charging-profile
 * manager says it) and draw them. One car leaves; the others get its current in the next update
 * (≤ 5 s), on each kind of evidence that it left. A car that only says SuspendedEV has not left.
 */
import assert from 'node:assert/strict';
import { confirmingZone } from '../../support/confirming-zone';
import { harness } from './support';

const KEYS = ['A/1', 'B/1', 'C/1'] as const;

/** A 63 A zone with three chargers that confirm each new limit and then draw it (shipped defaults). */
function fullZone() {
  const h = harness({
    circuits: [{ id: 'zone', limitA: 63 }],
    connectors: [
      { chargePointId: 'A', circuit: 'zone' },
      { chargePointId: 'B', circuit: 'zone' },
      { chargePointId: 'C', circuit: 'zone' },
    ],
  });
  h.start();
  for (const key of KEYS) h.plugIn(key);
  const confirmed = new Map<string, number>();
  /** Chargers that answer no more commands (their last limit is what they keep). */
  const silent = new Set<string>();
  /** Cars that left: their chargers report nothing more from the feeder. */
  const gone = new Set<string>();
  const drawsOverride = new Map<string, number>();
  h.feed(() => {
    for (const key of KEYS) {
      if (gone.has(key)) continue;
      const limit = h.limit(key) ?? 0;
      if (!silent.has(key) && confirmed.get(key) !== limit) {
        confirmed.set(key, limit);
        h.state(key, { limitInForce: { limitA: limit, since: h.iso(), confirmedAt: h.iso() } });
      }
      const drawn = drawsOverride.get(key) ?? Math.min(confirmed.get(key) ?? 0, 32);
      h.draw(key, [drawn, drawn, drawn], drawsOverride.has(key) ? 'SuspendedEV' : 'Charging');
    }
  });
  h.run(200_000);
  assert.deepEqual(
    KEYS.map((k) => h.limit(k)),
    [21, 21, 21],
  );
  return { h, silent, gone, drawsOverride };
}

/** When A and B were first given more than 21 A after `sinceMs`, ms after it. */
function raisedAfter(h: ReturnType<typeof harness>, sinceMs: number): (number | undefined)[] {
  return ['A/1', 'B/1'].map((key) => {
    const raised = h.sentTo(key).find((s) => s.atMs >= sinceMs && s.limitA > 21);
    return raised && raised.atMs - sinceMs;
  });
}

describe('dlm: a departure frees its current at once', () => {
  const kinds: { name: string; leave: (h: ReturnType<typeof harness>) => void }[] = [
    {
      name: 'the transaction ends, then the connector is Available',
      leave: (h) => {
        h.state('C/1', { transaction: undefined, currentA: undefined });
        h.run(1_000);
        h.state('C/1', { status: 'Available' });
      },
    },
    {
      name: 'the transaction ends, then the connector is Finishing (the cable still in)',
      leave: (h) => {
        h.state('C/1', { transaction: undefined, currentA: undefined });
        h.run(1_000);
        h.state('C/1', { status: 'Finishing' });
      },
    },
    {
      name: 'the transaction ends with EVDisconnected (no status yet)',
      leave: (h) => {
        h.state('C/1', {
          transaction: undefined,
          currentA: undefined,
          lastStop: { transactionId: 3, reason: 'EVDisconnected', at: h.iso() },
        });
      },
    },
    {
      name: 'the transaction ends, then a reading at 0 A (status still Charging)',
      leave: (h) => {
        h.state('C/1', {
          transaction: undefined,
          currentA: undefined,
          lastStop: { transactionId: 3, reason: 'Local', at: h.iso() },
        });
        h.run(1_000);
        h.state('C/1', { currentA: [0, 0, 0], measuredAt: h.iso(), lastSeen: h.iso() });
      },
    },
  ];
  for (const kind of kinds) {
    it(`${kind.name}: the others are raised within one update (≤ 5 s)`, () => {
      const { h, gone, silent } = fullZone();
      // A charger whose car left confirms no profile: there is no transaction to bind it to.
      gone.add('C/1');
      silent.add('C/1');
      const leftAt = h.clock.now();
      kind.leave(h);
      h.run(5_000);
      const [a, b] = raisedAfter(h, leftAt);
      assert.ok(a !== undefined && a <= 5_000, `A raised ${a} ms after the car left`);
      assert.ok(b !== undefined && b <= 5_000, `B raised ${b} ms after the car left`);
      assert.equal(h.limit('A/1'), 31.5);
      assert.equal(h.limit('B/1'), 31.5);
      assert.equal(h.limit('C/1'), 0);
      h.stop();
    });
  }

  it('a charger that says Available while its reading after the decrease still shows the old current has not freed it', () => {
    const { h, gone, silent } = fullZone();
    gone.add('C/1');
    silent.add('C/1');
    const leftAt = h.clock.now();
    h.state('C/1', { transaction: undefined, currentA: undefined, status: 'Available' });
    // A reading after the decrease went out, before the next update: it still draws 21 A.
    h.clock.advance(500);
    h.state('C/1', { currentA: [21, 21, 21], measuredAt: h.iso(), lastSeen: h.iso() });
    h.run(10_000);
    assert.deepEqual(raisedAfter(h, leftAt), [undefined, undefined]);
    // It stops drawing: freed in the next update.
    const stoppedAt = h.clock.now();
    h.state('C/1', { currentA: [0, 0, 0], measuredAt: h.iso(), lastSeen: h.iso() });
    h.run(2_000);
    const [a, b] = raisedAfter(h, stoppedAt);
    assert.ok(a !== undefined && a <= 2_000 && b !== undefined && b <= 2_000, `raised after ${a}, ${b} ms`);
    h.stop();
  });

  it('a car that says SuspendedEV and reads 0 A has not left: its decrease waits for the charger', () => {
    const { h, silent, drawsOverride } = fullZone();
    // C's car stops drawing (SuspendedEV, 0 A) but its transaction runs: it may take its current
    // again. Its charger answers no more commands for now; A is given priority: B and C decrease.
    silent.add('C/1');
    drawsOverride.set('C/1', 0);
    h.run(2_000);
    const at = h.clock.now();
    h.manager.command({ type: 'priority', chargePointId: 'A', priority: 10 });
    assert.ok((h.limit('C/1') ?? 0) < 21, 'C is decreased');
    h.run(10_000);
    assert.equal(h.limit('A/1'), 21, 'A is not given what C may still draw');
    // Past the ramp's interval, what holds A is C's decrease.
    h.run(30_000);
    assert.equal(h.limit('A/1'), 21);
    assert.match(h.setPoint('A/1')?.reason ?? '', /waiting for .*C\/1.* to follow a decrease/);
    // Past C's follow time (60 s: never seen following a decrease) too: C has not answered its
    // decrease, so it may still draw its old limit (before, time alone raised A at 60 s).
    h.run(30_000);
    assert.equal(raisedAfter(h, at)[0], undefined, 'A is not raised before C took its decrease');
    // C answers at last: its confirmation, and its next reading (0 A) after it, show it followed.
    silent.delete('C/1');
    const answeredAt = h.clock.now();
    h.run(5_000);
    const [a] = raisedAfter(h, answeredAt);
    assert.ok(a !== undefined && a <= 5_000, `A raised ${a} ms after C's answer`);
    h.stop();
  });

  /**
   * Issue 39: the others take the departure's current whenever they last changed. Before, a
   * connector changed less than one update interval (30 s) before the departure waited for it: C
   * arrived 10 s before it left, A and B got its current 20 s after it left; with a zone meter that
   * counts the chargers (its reading at the departure still showed C's current) they got 0.7 A at
   * once and the rest 31 s after.
   */
  function arrivals(meter: boolean) {
    // 5 A of other loads, varying by a few tenths.
    return confirmingZone(meter ? { meter: { otherLoadsA: (tick) => 5 + 0.1 * (tick % 3) } } : {});
  }

  it('a car that arrived 10 s before another left: the others get its current within 5 s (was 20 s)', () => {
    const { h, leaveC } = arrivals(false);
    h.plugIn('A/1');
    h.plugIn('B/1');
    h.run(200_000);
    h.plugIn('C/1');
    h.run(10_000);
    assert.deepEqual(KEYS.map(h.limit), [21, 21, 21]);
    const leftAt = h.clock.now();
    leaveC();
    h.run(5_000);
    assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [31.5, 31.5]);
    const [a, b] = raisedAfter(h, leftAt);
    assert.ok(a !== undefined && a <= 5_000 && b !== undefined && b <= 5_000, `raised after ${a}, ${b} ms`);
    h.stop();
  });

  it('a zone meter that counts the chargers: the others get the departed car’s current within 5 s (was 0.7 A at once, the rest after 31 s)', () => {
    const { h, leaveC } = arrivals(true);
    for (const key of KEYS) {
      h.plugIn(key);
      h.run(100_000);
    }
    h.run(100_000);
    const before = ['A/1', 'B/1'].map((key) => h.limit(key) ?? 0);
    const freed = h.limit('C/1') ?? 0;
    assert.ok(freed > 18, `C draws ${freed} A`);
    leaveC();
    h.run(5_000);
    const after = ['A/1', 'B/1'].map((key) => h.limit(key) ?? 0);
    const gained = (after[0] ?? 0) + (after[1] ?? 0) - (before[0] ?? 0) - (before[1] ?? 0);
    assert.ok(gained >= freed - 0.5, `A and B gained ${gained.toFixed(1)} A of C's ${freed} A within 5 s`);
    h.stop();
  });
});
