/**
 * Impossible readings are not evidence (issue 46, item 2): a charger's reading that is not a finite
 * number, or beyond what its connector's wiring can carry by a wide margin, is refused as a
 * reading. The charger counts as not measured (at its set-point), not the zone as full; the refusal
 * is logged once per session and named in the summary. Before, a 1e308 A reading was counted as an
 * overdraw of 1e308 A and every connector of the zone went to 0 A.
 */
import assert from 'node:assert/strict';
import {
  CHARGER_IMPOSSIBLE_FLOOR_A,
  chargerImpossibleA,
  chargerReadingRefusal,
  withoutRefused,
} from '../../../lib/dlm/evidence/meter-plausibility';
import { english } from '../../../lib/dlm/words';
import { dlmStatus } from '../../../nodes/dlm-status';
import { harness } from './support';

describe('dlm: impossible readings of a charger', () => {
  describe('the rule (chargerReadingRefusal)', () => {
    const c16 = { key: 'B/1', maxA: 16 };
    const c80 = { key: 'C/1', maxA: 80 };

    it('refuses what is not a finite number and what no wiring carries, naming the charger', () => {
      for (const value of [1e308, -1e308, Number.NaN, Number.POSITIVE_INFINITY, 160, -500]) {
        const phase = chargerReadingRefusal(c16, [10, value, value], undefined);
        assert.match(english(phase?.why ?? []), /^charger B\/1 reads .* on L2/);
        assert.deepEqual([phase?.phases, phase?.unphased], [[1, 2], false], 'only the impossible phases');
        const unphased = chargerReadingRefusal(c16, undefined, value);
        assert.match(english(unphased?.why ?? []), /without a phase/);
        assert.deepEqual([unphased?.phases, unphased?.unphased], [[], true]);
      }
      const refusal = chargerReadingRefusal(c16, [320, 16, 16], undefined);
      assert.match(english(refusal?.why ?? []), /320\.0 A on L1, more than 120 A/);
      assert.deepEqual(withoutRefused([320, 16, 16], refusal), [null, 16, 16]);
    });

    it('believes an overdraw, a charger set below its hardware, noise and a small negative offset', () => {
      assert.equal(CHARGER_IMPOSSIBLE_FLOOR_A, 120);
      assert.equal(chargerImpossibleA(c16), 120);
      assert.equal(chargerImpossibleA(c80), 240);
      // A 32 A charger set to 16 A that ignores it, an 80 A one set to 6 A: counted as overdraws.
      for (const value of [32, 80, 119.9, -0.4, 0]) {
        assert.equal(chargerReadingRefusal(c16, [value, value, value], undefined), undefined);
      }
      assert.equal(chargerReadingRefusal(c80, [239, 0, 0], 239), undefined);
      // Not numbers at all are the input boundary's (taken as not measured there).
      assert.equal(chargerReadingRefusal(c16, ['16', null, undefined], 'x'), undefined);
    });
  });

  function twoCharging() {
    const h = harness({
      circuits: [{ id: 'line', limitA: 32 }],
      connectors: [
        { chargePointId: 'A', circuit: 'line', maxA: 16 },
        { chargePointId: 'B', circuit: 'line', maxA: 16 },
      ],
      control: { rampUpAPerS: 100, minUpdateIntervalMs: 1000 },
    });
    h.start();
    h.plugIn('A/1');
    h.plugIn('B/1');
    h.obey('A/1');
    h.run(30_000);
    return h;
  }

  for (const [name, value] of [
    ['1e308 A', 1e308],
    ['NaN', Number.NaN],
    ['10 times its wiring (160 A)', 160],
  ] as const) {
    it(`a state with ${name} leaves both limits unchanged, names the charger once per session`, () => {
      const h = twoCharging();
      h.draw('B/1', [16, 16, 16]);
      h.run(5_000);
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [16, 16]);
      for (let i = 0; i < 3; i++) {
        h.draw('B/1', [value, 16, 16]);
        h.run(5_000);
        h.draw('B/1', [16, value, 16], 'Charging');
        h.run(5_000);
      }
      assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [16, 16], 'nobody paused');
      const summary = h.manager.summary();
      const b = summary.connectors.find((c) => c.chargePointId === 'B');
      assert.match(b?.refusedReading ?? '', /^charger B\/1 reads/);
      assert.equal(b?.overdrawing, undefined);
      assert.deepEqual(b?.countedA, [16, 16, 16], 'counted at its set-point where not measured');
      assert.deepEqual(b?.drawA, [16, 0, 16], 'its plausible phases stay evidence');
      assert.ok(
        summary.problems.some((p) => /^charger B\/1 reads .*: refused, taken as not measured/.test(p)),
      );
      assert.equal(summary.circuits[0]?.overloaded, false);
      // The reason (what the Chargers sidebar shows) and the node's status say it too.
      assert.match(b?.reason ?? '', /; reading refused: reads .* on L[12]/);
      assert.doesNotMatch(summary.connectors[0]?.reason ?? '', /refused/);
      assert.equal(dlmStatus({ summary }).text, 'reading refused');
      const warned = h.logged.filter((line) => /reading refused/.test(line));
      assert.equal(warned.length, 1, warned.join('\n'));
      // The next car's session: logged again.
      h.unplug('B/1');
      h.run(2_000);
      h.plugIn('B/1');
      h.draw('B/1', [value, value, value]);
      h.run(2_000);
      assert.equal(h.logged.filter((line) => /reading refused/.test(line)).length, 2);
      h.stop();
    });
  }

  it('a car none of whose readings could be used is taken 3 % above its set-point until one shows its own', () => {
    // Its readings refused, a car's overshoot is not learned: taken at none, a car 3 % above its
    // 10.7 A beside others that filled the breaker put 0.12 A over it (issue 45,
    // POPULATION=…,overshoot FAULTS_SEED=20261125 FAULTS_PATH=1664).
    const h = twoCharging();
    h.draw('B/1', [1e308, 1e308, 1e308]);
    h.run(30_000);
    // A's car is exact: what both draw, B's at 3 % above its set-point, fits the line (at none,
    // both would be at 16 A and draw 32.48 A).
    const drawnA = (h.limit('A/1') ?? 0) + (h.limit('B/1') ?? 0) * 1.03;
    assert.ok(drawnA <= 32 + 1e-6, `${h.limit('A/1')} + ${h.limit('B/1')} A draw ${drawnA} A`);
    // A reading that can be used teaches its own (none here): the line is shared whole again.
    for (let i = 0; i < 6; i++) {
      const limitA = h.limit('B/1') ?? 0;
      h.draw('B/1', [limitA, limitA, limitA]);
      h.run(15_000);
    }
    assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [16, 16]);
    h.stop();
  });

  it('a reading of its meter with 1e308 A is refused the same way; a plausible overdraw after it still counts', () => {
    const h = twoCharging();
    h.draw('B/1', [16, 16, 16]);
    h.run(5_000);
    h.manager.reading({ source: 'B/1', timestamp: h.iso(), currentA: [1e308, 1e308, 1e308] });
    h.run(2_000);
    assert.deepEqual([h.limit('A/1'), h.limit('B/1')], [16, 16]);
    assert.match(h.manager.summary().connectors[1]?.refusedReading ?? '', /1\.00e\+308 A on L1/);
    // A current its wiring can carry is a reading again: 24 A above its 16 A is an overdraw.
    h.manager.reading({ source: 'B/1', timestamp: h.iso(), currentA: [24, 24, 24] });
    h.run(2_000);
    assert.equal(h.manager.summary().connectors[1]?.overdrawing, true);
    assert.ok((h.limit('A/1') ?? 16) < 16, 'the others make room for what it draws');
    h.stop();
  });
});
