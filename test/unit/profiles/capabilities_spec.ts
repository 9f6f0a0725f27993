import assert from 'node:assert/strict';
import {
  connectorPhases,
  parseCapabilities,
  parseFeatureProfiles,
  parsePhaseRotation,
  parseRateUnits,
} from '../../../lib/profiles';

describe('Profiles: learning a charger from its configuration keys', () => {
  it('reads ChargingScheduleAllowedChargingRateUnit as the spec spells it and as chargers do (errata 3.86)', () => {
    assert.deepEqual(parseRateUnits('Current,Power'), ['A', 'W']);
    assert.deepEqual(parseRateUnits('Current'), ['A']);
    assert.deepEqual(parseRateUnits('Power'), ['W']);
    assert.deepEqual(parseRateUnits('W'), ['W']);
    assert.deepEqual(parseRateUnits('A, W'), ['A', 'W']);
    assert.deepEqual(parseRateUnits('current; watts'), ['A', 'W']);
    assert.equal(parseRateUnits('kWh'), undefined);
    assert.equal(parseRateUnits(undefined), undefined);
  });

  it('reads SupportedFeatureProfiles with the spaces EVlink puts in (vendor doc 003 §8)', () => {
    assert.deepEqual(parseFeatureProfiles('Core,Firmware Management, Reservation,SmartCharging'), [
      'Core',
      'FirmwareManagement',
      'Reservation',
      'SmartCharging',
    ]);
    const evlink = parseCapabilities([
      { key: 'SupportedFeatureProfiles', readonly: true, value: 'Core, Smart Charging' },
    ]);
    assert.equal(evlink.smartCharging, true);
    const r4 = parseCapabilities([
      { key: 'SupportedFeatureProfiles', readonly: true, value: 'Core,Reservation' },
    ]);
    assert.equal(r4.smartCharging, false);
  });

  it('reads ConnectorPhaseRotation per connector, and tells single-phase connectors apart', () => {
    const rotation = parsePhaseRotation('0.RST, 1.RST, 2.notapplicable,3.Unknown, junk');
    assert.deepEqual(rotation, { 0: 'RST', 1: 'RST', 2: 'NotApplicable', 3: 'Unknown' });
    const capabilities = parseCapabilities([
      { key: 'ConnectorPhaseRotation', readonly: false, value: '1.TRS,2.NotApplicable' },
    ]);
    assert.equal(connectorPhases(capabilities, 1), 3);
    assert.equal(connectorPhases(capabilities, 2), 1);
    assert.equal(connectorPhases(capabilities, 3), undefined);
  });

  it('reads every smart-charging key, case insensitive, and keeps the vendor keys a strategy asks for', () => {
    const capabilities = parseCapabilities(
      [
        { key: 'chargeprofilemaxstacklevel', readonly: true, value: ' 999 ' },
        { key: 'MaxChargingProfilesInstalled', readonly: true, value: '99' },
        { key: 'ChargingScheduleMaxPeriods', readonly: true, value: '24' },
        { key: 'ConnectorSwitch3to1PhaseSupported', readonly: true, value: 'True' },
        { key: 'NumberOfConnectors', readonly: true, value: '2' },
        { key: 'maxIntensitySocket', readonly: false, value: '32' },
        { key: 'HeartbeatInterval', readonly: false, value: 'not a number' },
      ],
      {
        unknownKeys: ['ChargingScheduleAllowedChargingRateUnit'],
        extraKeys: ['MaxIntensitySocket'],
        at: 'then',
      },
    );
    assert.deepEqual(capabilities, {
      maxStackLevel: 999,
      maxProfilesInstalled: 99,
      maxPeriods: 24,
      switch3to1: true,
      numberOfConnectors: 2,
      vendorKeys: { MaxIntensitySocket: '32' },
      unknownKeys: ['ChargingScheduleAllowedChargingRateUnit'],
      learnedAt: 'then',
    });
  });
});
