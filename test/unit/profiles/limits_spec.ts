import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../../lib/config-error';
import {
  ALL_PROFILES,
  buildChargingProfile,
  chargerWideLimit,
  emptyMemory,
  expireRefusals,
  isPureIncrease,
  isStoredFacts,
  lowersAnyPhase,
  RETRY_NOT_SUPPORTED_AFTER_MS,
  RETRY_REFUSED_AFTER_MS,
  rememberRefusal,
  resolveStrategy,
  type Target,
} from '../../../lib/profiles';

/** The pure rules behind the manager's safety fixes. */
describe('Profiles: limit rules', () => {
  it('holds only a pure increase: any phase or the current per phase going down goes at once', () => {
    const t = (limitA: number, phases?: number): Target =>
      phases === undefined ? { limitA } : { limitA, phases };
    assert.equal(isPureIncrease(t(16, 3), t(10, 3)), true);
    assert.equal(isPureIncrease(t(6, 3), t(6, 1)), true, 'more phases, nothing lower');
    assert.equal(isPureIncrease(t(6, 3), t(16, 1)), false, '16 A × 1 → 6 A × 3 lowers L1');
    assert.equal(isPureIncrease(t(16, 1), t(6, 3)), false, 'L2 and L3 go to 0');
    assert.equal(isPureIncrease(t(10, 3), t(10, 3)), false);
    assert.equal(isPureIncrease(t(16), t(10, 1)), true, 'unknown phases count as three');
    assert.equal(lowersAnyPhase(t(16, 1), t(6, 3)), true);
    assert.equal(lowersAnyPhase(t(16, 3), t(6, 3)), false);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 32 }),
        fc.constantFrom(1, 2, 3),
        fc.integer({ min: 0, max: 32 }),
        fc.constantFrom(1, 2, 3),
        (a, pa, b, pb) => {
          const next = t(a, pa);
          const last = t(b, pb);
          // Never both held and lowering: a decrease is never delayed.
          return !(isPureIncrease(next, last) && lowersAnyPhase(next, last));
        },
      ),
    );
  });

  it('gives a charger-wide limit the lowest limit of all connectors, and W for the fewest known phases', () => {
    assert.equal(chargerWideLimit([]), undefined);
    assert.deepEqual(
      chargerWideLimit([
        { connectorId: 1, target: { limitA: 6, phases: 3 }, knownPhases: 3 },
        { connectorId: 2, target: { limitA: 16, phases: 1 }, knownPhases: 1 },
      ]),
      { limitA: 6, wattPhases: 1 },
    );
    assert.deepEqual(chargerWideLimit([{ connectorId: 0, target: { limitA: 10 } }]), {
      limitA: 10,
      wattPhases: 1,
    });
    assert.deepEqual(
      chargerWideLimit([
        { connectorId: 1, target: { limitA: 10, phases: 3 }, knownPhases: 3 },
        { connectorId: 2, target: { limitA: 12, phases: 3 }, knownPhases: 3 },
      ]),
      { limitA: 10, wattPhases: 3 },
    );
  });

  it('builds W for one phase when phases are unknown, and leaves out a minChargingRate above the limit', () => {
    const base = {
      purpose: 'TxProfile' as const,
      connectorId: 1,
      stackLevel: 0,
      kind: 'Absolute' as const,
      statePhases: true,
      voltageV: 230,
      nowMs: 0,
    };
    const watts = buildChargingProfile({ ...base, unit: 'W', limitA: 16 });
    assert.deepEqual(watts.chargingSchedule.chargingSchedulePeriod, [
      { startPeriod: 0, limit: 3680, numberPhases: 1 },
    ]);
    const amps = buildChargingProfile({ ...base, unit: 'A', limitA: 6, minChargingRateA: 8 });
    assert.equal(amps.chargingSchedule.minChargingRate, undefined);
    assert.equal(amps.chargingSchedule.chargingSchedulePeriod[0]?.numberPhases, 3);
  });

  it('forgets a Rejected after RETRY_REFUSED_AFTER_MS, "no profiles at all" after RETRY_NOT_SUPPORTED_AFTER_MS', () => {
    const memory = emptyMemory();
    const times = new Map<string, number>();
    rememberRefusal(
      memory,
      'session/limit',
      { key: 'TxProfile/0/A', method: 'TxProfile' },
      'Rejected',
      false,
      times,
      0,
    );
    rememberRefusal(
      memory,
      'idle/limit',
      { key: 'TxDefaultProfile/0/A', method: 'TxDefaultProfile' },
      'NotSupported',
      true,
      times,
      0,
    );
    assert.equal(expireRefusals(memory, times, RETRY_REFUSED_AFTER_MS - 1), false);
    assert.equal(expireRefusals(memory, times, RETRY_REFUSED_AFTER_MS), true);
    assert.equal(memory.refused['session/limit']?.['TxProfile/0/A'], undefined);
    assert.equal(memory.refused['session/limit']?.[ALL_PROFILES], 'NotSupported');
    assert.equal(expireRefusals(memory, times, RETRY_NOT_SUPPORTED_AFTER_MS), true);
    assert.deepEqual(memory.refused, {});
    // Read from a record after a restart (no time): counted from now.
    const loaded = { worked: {}, refused: { 'idle/pause': { 'TxDefaultProfile/0/A': 'Rejected' } } };
    const fresh = new Map<string, number>();
    assert.equal(expireRefusals(loaded, fresh, 1000), false);
    assert.equal(expireRefusals(loaded, fresh, 1000 + RETRY_REFUSED_AFTER_MS), true);
    assert.deepEqual(loaded.refused, {});
  });

  it('reads stored facts only when every part has its shape', () => {
    const good = {
      version: 1,
      strategy: 'default',
      memory: {
        worked: { 'session/limit': 'TxProfile/0/A' },
        refused: { 'idle/pause': { 'TxDefaultProfile/0/A': 'Rejected' } },
      },
      compositeUnsupported: false,
    };
    assert.equal(isStoredFacts(good), true);
    assert.equal(isStoredFacts({ ...good, chargePointMaxProfile: true }), true);
    for (const bad of [
      null,
      [],
      { ...good, memory: { worked: {}, refused: null } },
      { ...good, memory: { worked: [], refused: {} } },
      { ...good, memory: { worked: { 'session/limit': 7 }, refused: {} } },
      { ...good, memory: { worked: {}, refused: { 'idle/pause': 'Rejected' } } },
      { ...good, memory: { worked: {}, refused: { 'idle/pause': { x: null } } } },
      { ...good, memory: { worked: { 'some/slot': 'x' }, refused: {} } },
      { ...good, firmware: 12 },
      { ...good, chargePointMaxProfile: 'yes' },
      { ...good, version: 2 },
    ]) {
      assert.equal(isStoredFacts(bad), false, JSON.stringify(bad));
    }
  });

  it('checks a charger’s minChargingRateA and limitStepsA, naming the charger and field', () => {
    const fails = (choice: object, pattern: RegExp) =>
      assert.throws(
        () => resolveStrategy(choice as never, undefined, 'chargers.CP-7'),
        (err: Error) => err instanceof ConfigError && pattern.test(err.message),
      );
    fails({ minChargingRateA: -1 }, /^chargers\.CP-7\.minChargingRateA: a current from 0 to 80 A/);
    fails({ minChargingRateA: 100 }, /chargers\.CP-7\.minChargingRateA/);
    fails({ minChargingRateA: '6' }, /chargers\.CP-7\.minChargingRateA/);
    fails(
      { preset: 'necharge', minChargingRateA: 20 },
      /chargers\.CP-7\.minChargingRateA: a current from 0 to 16 A/,
    );
    fails({ limitStepsA: [6, -8] }, /chargers\.CP-7\.limitStepsA/);
    assert.equal(resolveStrategy({ minChargingRateA: 6 }, undefined, 'chargers.CP-7').minChargingRateA, 6);
  });
});
