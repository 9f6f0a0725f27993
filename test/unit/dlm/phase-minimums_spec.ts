import assert from 'node:assert/strict';
import { type ConnectorConfig, validateSite } from '../../../lib/dlm/site';
import { harness } from './support';

/**
 * Issue 37: per-connector minimums for a car on one phase and on three (`minOnePhaseA`,
 * `minThreePhaseA`), as a Schneider EVlink has them (monophasedLoadSheddingFloorValue and
 * triphasedLoadSheddingFloorValue; its manual: "From 0 to 7 for single-phasis charge, the operating
 * value is 0. From 0 to 13 tri-phasis charge, the operating value is 0"): the load manager takes the
 * one for the phases the car's readings show (those the connector is wired for until they do).
 */
describe('minimums per phase count (minOnePhaseA, minThreePhaseA)', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  /** EVlink's floors: 8 A on one phase, 14 A on three. */
  const evlink = (id: string): ConnectorConfig => ({
    chargePointId: id,
    circuit: 'line',
    maxA: 32,
    minOnePhaseA: 8,
    minThreePhaseA: 14,
  });

  function line(limitA: number, connectors: ConnectorConfig[]) {
    h = harness({
      circuits: [{ id: 'line', limitA }],
      connectors,
      unbalanceLimitA: null,
      control: { rampUpAPerS: 1000, minUpdateIntervalMs: 0 },
    });
    h.start();
  }

  it('gives no three-phase car less than its three-phase minimum: one of two pauses on a 24 A line', () => {
    line(24, [evlink('EV-1'), evlink('EV-2')]);
    h.obey('EV-1/1');
    h.obey('EV-2/1');
    h.plugIn('EV-1/1');
    h.plugIn('EV-2/1');
    h.run(120_000);
    // 12 A each would be below 14 A, where the charger suspends the car: one charges, one waits.
    const limits = [h.limit('EV-1/1') ?? 0, h.limit('EV-2/1') ?? 0].sort((a, b) => a - b);
    assert.equal(limits[0], 0, JSON.stringify(limits));
    assert.equal(limits[1], 24, JSON.stringify(limits));
    const paused = h.setPoint(h.limit('EV-1/1') === 0 ? 'EV-1/1' : 'EV-2/1');
    assert.match(paused?.reason ?? '', /minimum 14 A/);
  });

  it('takes the one-phase minimum once the readings show one phase: both cars fit on a 24 A line', () => {
    line(24, [evlink('EV-1'), evlink('EV-2')]);
    h.obey('EV-1/1', [1]); // a single-phase car
    h.obey('EV-2/1');
    h.plugIn('EV-1/1');
    h.run(60_000);
    h.plugIn('EV-2/1');
    h.run(240_000);
    const one = h.limit('EV-1/1') ?? 0;
    const three = h.limit('EV-2/1') ?? 0;
    // On L1: the single-phase car at least 8 A and the three-phase one at least 14 A (22 ≤ 24).
    assert.ok(one >= 8, `single-phase car ${one} A`);
    assert.ok(three >= 14, `three-phase car ${three} A`);
    assert.ok(one + three <= 24, `${one} + ${three} A on L1`);
  });

  it('a single-phase car is held to the three-phase minimum until its readings show one phase', () => {
    line(12, [evlink('EV-1')]);
    h.obey('EV-1/1', [1]);
    h.plugIn('EV-1/1');
    h.run(120_000);
    // 12 A is below 14 A and nothing has shown the car's phases (it never drew): paused.
    assert.equal(h.limit('EV-1/1'), 0);
    assert.match(h.setPoint('EV-1/1')?.reason ?? '', /minimum 14 A/);
  });

  describe('settings', () => {
    const site = (connector: Partial<ConnectorConfig>) => ({
      circuits: [{ id: 'line', limitA: 32 }],
      connectors: [{ chargePointId: 'EV-1', circuit: 'line', ...connector }],
    });

    it('default to minA', () => {
      const { site: valid } = validateSite(site({ minA: 7 }));
      assert.equal(valid?.connectors[0]?.minOnePhaseA, 7);
      assert.equal(valid?.connectors[0]?.minThreePhaseA, 7);
    });

    it('name the connector and the field of a value that is not one', () => {
      const messages = (connector: Partial<ConnectorConfig>) =>
        validateSite(site(connector)).problems.map((p) => `${p.field}: ${p.message}`);
      assert.deepEqual(messages({ minThreePhaseA: 5 }), ['connector "EV-1/1" minThreePhaseA: 5 is below 6']);
      assert.deepEqual(messages({ minOnePhaseA: 'eight' as unknown as number }), [
        'connector "EV-1/1" minOnePhaseA: "eight" is not a number',
      ]);
      assert.deepEqual(messages({ maxA: 16, minThreePhaseA: 20 }), [
        'connector "EV-1/1" minThreePhaseA: 20 A is above maxA 16 A',
      ]);
      assert.deepEqual(messages({ minThreePhaseA: 14, canSwitchPhases: true }), [
        'connector "EV-1/1" minThreePhaseA: a connector that switches phases (canSwitchPhases) takes one minimum for one and three phases, minA: remove the per-phase minimums or the switching',
      ]);
    });

    it('warn that a one-phase connector ignores the three-phase minimum', () => {
      const result = validateSite(site({ phases: 1, minOnePhaseA: 8, minThreePhaseA: 14 }));
      assert.deepEqual(result.problems, []);
      assert.equal(result.site?.connectors[0]?.minThreePhaseA, 8);
      assert.ok(
        result.warnings.some((w) => w.field === 'connector "EV-1/1" minThreePhaseA'),
        JSON.stringify(result.warnings),
      );
    });
  });
});
