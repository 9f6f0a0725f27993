import assert from 'node:assert/strict';
import { ConfigError } from '../../../lib/config-error';
import {
  type ChargerCapabilities,
  type ChargingStrategy,
  emptyMemory,
  matchPreset,
  PRESET_NAMES,
  planAttempts,
  rememberRefusal,
  rememberSuccess,
  resolveStrategy,
  STRATEGY_PRESETS,
} from '../../../lib/profiles';
import { VENDOR_BEHAVIOURS } from '../../../sim/charge-point';

const caps = (fields: Partial<ChargerCapabilities> = {}): ChargerCapabilities => ({
  vendorKeys: {},
  unknownKeys: [],
  ...fields,
});

const keys = (
  strategy: ChargingStrategy,
  capabilities: ChargerCapabilities | undefined,
  session = true,
  memory = emptyMemory(),
) =>
  planAttempts({ strategy, capabilities, session, pause: false, connectorId: 1, memory }).map(
    (attempt) => attempt.key,
  );

describe('Profiles: strategy presets and the fallback order', () => {
  it('are data: every preset names its source and passes its own checks', () => {
    for (const name of PRESET_NAMES) {
      const preset: ChargingStrategy = STRATEGY_PRESETS[name];
      assert.equal(preset.name, name);
      assert.ok(preset.label && preset.source.length > 20, `${name} explains itself`);
      assert.deepEqual(resolveStrategy(name), preset);
    }
  });

  it('has a simulated charger model for every vendor preset', () => {
    const vendorPresets = PRESET_NAMES.filter((name) => name !== 'default' && name !== 'txdefault');
    assert.deepEqual(vendorPresets.sort(), Object.keys(VENDOR_BEHAVIOURS).sort());
  });

  it('picks a preset by BootNotification with `auto`, the safe default for chargers it does not know', () => {
    const pick = (chargePointVendor: string, chargePointModel: string, firmwareVersion?: string) =>
      resolveStrategy('auto', {
        chargePointVendor,
        chargePointModel,
        ...(firmwareVersion ? { firmwareVersion } : {}),
      }).name;
    assert.equal(pick('ABB', 'Terra AC W22-T-RD-M-0'), 'abb-terra-ac');
    assert.equal(pick('Wall Box Chargers', 'PUP1-0-2-2-9-002'), 'wallbox');
    assert.equal(pick('Wallbox', 'Pulsar Plus'), 'wallbox-pulsar');
    assert.equal(pick('Schneider Electric', 'EVlink Parking', 'v3.3.0.7'), 'schneider-evlink-r6-r7');
    assert.equal(pick('Schneider Electric', 'EVlink Smart Wallbox', '2.7.4.18'), 'schneider-evlink-r4-r5');
    assert.equal(pick('Schneider Electric', 'EVlink Smart Wallbox', 'v3.1.1-33'), 'schneider-evlink-r4-r5');
    assert.equal(pick('HUAWEI', 'SCharger-7KS-S0'), 'huawei');
    assert.equal(pick('Keba', 'P30'), 'default');
    assert.equal(matchPreset(undefined), undefined);
    assert.equal(resolveStrategy(undefined).name, 'default');
  });

  it('lets a charger override a preset field by field, and names the setting of a mistake', () => {
    const strategy = resolveStrategy({ preset: 'huawei', stackLevel: 0, compositeSchedule: false });
    assert.equal(strategy.name, 'huawei');
    assert.equal(strategy.rateUnit, 'W');
    assert.equal(strategy.stackLevel, 0);
    assert.throws(
      () => resolveStrategy('tesla'),
      (err: Error) => err instanceof ConfigError && /"tesla" is not a strategy/.test(err.message),
    );
    assert.throws(
      () => resolveStrategy({ sessionMethods: ['Magic' as never] }, undefined, 'chargers.CP-1'),
      /chargers\.CP-1\.sessionMethods: Magic/,
    );
    assert.throws(() => resolveStrategy({ sessionMethods: ['ConfigurationKey'] }), /needs the key/);
  });

  it('tries TxProfile, then ChargePointMaxProfile during a session; stack level 0 after the announced one', () => {
    const strategy = resolveStrategy('default');
    // No TxDefaultProfile during a session: the default strategy does not count on a new one
    // reaching the running session (chargers that apply it from the next session on).
    assert.deepEqual(keys(strategy, caps({ maxStackLevel: 8, allowedUnits: ['A', 'W'] })), [
      'TxProfile/8/A',
      'TxProfile/0/A',
      'ChargePointMaxProfile/8/A',
      'ChargePointMaxProfile/0/A',
    ]);
    // Where the strategy says it reaches the running session, it is a way in between. A charger that
    // does not say its ChargeProfileMaxStackLevel is tried at 1 first (above the offline fallback
    // at 0: issue 45), then at 0.
    assert.deepEqual(
      keys(resolveStrategy({ txDefaultAppliesToRunningSession: true }), caps({ allowedUnits: ['A'] })),
      [
        'TxProfile/1/A',
        'TxProfile/0/A',
        'TxDefaultProfile/1/A',
        'TxDefaultProfile/0/A',
        'ChargePointMaxProfile/1/A',
        'ChargePointMaxProfile/0/A',
      ],
    );
    assert.deepEqual(keys(strategy, caps({ maxStackLevel: 0, allowedUnits: ['A'] }), false), [
      'TxDefaultProfile/0/A',
      'ChargePointMaxProfile/0/A',
    ]);
    // Units unknown: A first, then W. Only W allowed: W.
    assert.deepEqual(keys(strategy, caps({ maxStackLevel: 0 }), false), [
      'TxDefaultProfile/0/A',
      'TxDefaultProfile/0/W',
      'ChargePointMaxProfile/0/A',
      'ChargePointMaxProfile/0/W',
    ]);
    assert.deepEqual(keys(strategy, caps({ maxStackLevel: 0, allowedUnits: ['W'] }), false), [
      'TxDefaultProfile/0/W',
      'ChargePointMaxProfile/0/W',
    ]);
    // Nothing known yet (no GetConfiguration answer): 1, then 0.
    assert.deepEqual(keys(strategy, undefined, false), [
      'TxDefaultProfile/1/A',
      'TxDefaultProfile/0/A',
      'TxDefaultProfile/1/W',
      'TxDefaultProfile/0/W',
      'ChargePointMaxProfile/1/A',
      'ChargePointMaxProfile/0/A',
      'ChargePointMaxProfile/1/W',
      'ChargePointMaxProfile/0/W',
    ]);
  });

  it('ends with the configuration key where the strategy has one, and uses only it without SmartCharging', () => {
    const r6 = resolveStrategy('schneider-evlink-r6-r7');
    assert.deepEqual(keys(r6, caps({ maxStackLevel: 0 })), [
      'TxProfile/0/A',
      'ChargePointMaxProfile/0/A',
      'ConfigurationKey',
    ]);
    assert.deepEqual(keys(r6, caps({ maxStackLevel: 0 }), false), [
      'TxDefaultProfile/0/A',
      'ChargePointMaxProfile/0/A',
      'ConfigurationKey',
    ]);
    assert.deepEqual(keys(r6, caps({ smartCharging: false })), ['ConfigurationKey']);
    assert.deepEqual(keys(resolveStrategy('default'), caps({ smartCharging: false })), []);
  });

  it('skips what the charger refused and starts with what worked among the variants of its method, per situation', () => {
    const strategy = resolveStrategy({ txDefaultAppliesToRunningSession: true });
    const capabilities = caps({ maxStackLevel: 8, allowedUnits: ['A'] });
    const memory = emptyMemory();
    const plan = planAttempts({
      strategy,
      capabilities,
      session: true,
      pause: false,
      connectorId: 1,
      memory,
    });
    rememberRefusal(memory, 'session/limit', plan[0] as never, 'Rejected', false);
    rememberRefusal(memory, 'session/limit', plan[1] as never, 'Rejected', false);
    rememberSuccess(memory, 'session/limit', plan[3] as never);
    assert.deepEqual(keys(strategy, capabilities, true, memory), [
      'TxDefaultProfile/0/A',
      'TxDefaultProfile/8/A',
      'ChargePointMaxProfile/8/A',
      'ChargePointMaxProfile/0/A',
    ]);
    // What worked does not jump ahead of a preferred method: once the TxProfile refusals are
    // forgotten, TxProfile goes first again although ChargePointMaxProfile worked last.
    rememberSuccess(memory, 'session/limit', { key: 'ChargePointMaxProfile/0/A' } as never);
    delete memory.refused['session/limit'];
    assert.deepEqual(keys(strategy, capabilities, true, memory), [
      'TxProfile/8/A',
      'TxProfile/0/A',
      'TxDefaultProfile/8/A',
      'TxDefaultProfile/0/A',
      'ChargePointMaxProfile/0/A',
      'ChargePointMaxProfile/8/A',
    ]);
    // A pause is remembered apart: a charger may refuse 0 A only.
    assert.equal(
      planAttempts({ strategy, capabilities, session: true, pause: true, connectorId: 1, memory })[0]?.key,
      'TxProfile/8/A',
    );
    rememberRefusal(memory, 'idle/limit', plan[0] as never, 'NotSupported', true);
    assert.deepEqual(keys(strategy, capabilities, false, memory), []);
  });

  it('never plans a TxProfile for connector 0 or without a transaction (3.13.1)', () => {
    const plan = planAttempts({
      strategy: resolveStrategy('default'),
      capabilities: caps({ allowedUnits: ['A'] }),
      session: true,
      pause: false,
      connectorId: 0,
      memory: emptyMemory(),
    });
    assert.ok(plan.every((attempt) => attempt.method !== 'TxProfile'));
  });
});
