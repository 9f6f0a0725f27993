import assert from 'node:assert/strict';
import fc from 'fast-check';
import { findViolation } from '../../../lib/ocpp/v16/validation';
import {
  buildChargingProfile,
  buildSetChargingProfile,
  compositeLimitNow,
  floorTo,
  limitForCharger,
  limitInUnit,
  type ProfileSpec,
  profileIdFor,
} from '../../../lib/profiles';

const NOW = Date.UTC(2026, 0, 1, 12);

function spec(fields: Partial<ProfileSpec> = {}): ProfileSpec {
  return {
    purpose: 'TxDefaultProfile',
    connectorId: 1,
    stackLevel: 0,
    kind: 'Absolute',
    unit: 'A',
    limitA: 16,
    statePhases: false,
    voltageV: 230,
    nowMs: NOW,
    ...fields,
  };
}

describe('Profiles: building SetChargingProfile', () => {
  it('rounds limits down to 0.1 A, never up (schema multipleOf 0.1, 7.14)', () => {
    assert.equal(floorTo(16.09), 16);
    assert.equal(floorTo(8.1), 8.1);
    assert.equal(floorTo(7.999999), 7.9);
    assert.equal(floorTo(0.05), 0);
    assert.equal(limitForCharger(12.5, [6, 8, 10, 13, 16]), 10);
    assert.equal(limitForCharger(5.9, [6, 8, 10, 13, 16]), 0);
    assert.equal(limitForCharger(16.34), 16.3);
  });

  it('converts to W as A × V × phases, with the voltage configurable (7.12, errata 3.68)', () => {
    assert.equal(limitInUnit(16, 'W', 230, 3), 11040);
    assert.equal(limitInUnit(16, 'W', 230, 1), 3680);
    assert.equal(limitInUnit(10, 'W', 120, 2), 2400);
    assert.equal(limitInUnit(16.1, 'W', 231.5, 1), 3727.1);
    assert.equal(limitInUnit(16.1, 'A', 230, 3), 16.1);
  });

  it('gives each purpose and connector a stable id of its own, so a new limit replaces the old one (5.16.3)', () => {
    assert.equal(profileIdFor('TxDefaultProfile', 1), profileIdFor('TxDefaultProfile', 1));
    const ids = new Set(
      (['ChargePointMaxProfile', 'TxDefaultProfile', 'TxProfile'] as const).flatMap((purpose) =>
        [0, 1, 2, 3].map((connectorId) => profileIdFor(purpose, connectorId)),
      ),
    );
    assert.equal(ids.size, 12);
    assert.equal(profileIdFor('TxProfile', 2, 9000), 9302);
  });

  it('builds an Absolute profile starting in the past, one open-ended period from 0 (errata 3.45)', () => {
    assert.deepEqual(buildSetChargingProfile(spec()), {
      connectorId: 1,
      csChargingProfiles: {
        chargingProfileId: 7201,
        stackLevel: 0,
        chargingProfilePurpose: 'TxDefaultProfile',
        chargingProfileKind: 'Absolute',
        chargingSchedule: {
          startSchedule: '2026-01-01T11:00:00.000Z',
          chargingRateUnit: 'A',
          chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }],
        },
      },
    });
  });

  it('builds Relative (no startSchedule) and Recurring Daily profiles, and a TxProfile bound to its transaction', () => {
    const relative = buildChargingProfile(
      spec({ kind: 'Relative', purpose: 'TxProfile', transactionId: 42 }),
    );
    assert.equal(relative.chargingSchedule.startSchedule, undefined);
    assert.equal(relative.transactionId, 42);
    assert.equal(relative.chargingProfileId, 7301);
    const recurring = buildChargingProfile(spec({ kind: 'Recurring' }));
    assert.equal(recurring.recurrencyKind, 'Daily');
    assert.ok(recurring.chargingSchedule.startSchedule);
  });

  it('states numberPhases and minChargingRate only when asked, in the unit of the schedule', () => {
    const plain = buildChargingProfile(spec());
    assert.equal(plain.chargingSchedule.chargingSchedulePeriod[0]?.numberPhases, undefined);
    assert.equal(plain.chargingSchedule.minChargingRate, undefined);
    const watts = buildChargingProfile(
      spec({ unit: 'W', phases: 1, statePhases: true, limitA: 10, minChargingRateA: 6 }),
    );
    assert.deepEqual(watts.chargingSchedule.chargingSchedulePeriod, [
      { startPeriod: 0, limit: 2300, numberPhases: 1 },
    ]);
    assert.equal(watts.chargingSchedule.minChargingRate, 1380);
  });

  it('always builds a request the OCPP 1.6 schema takes, at or below the limit asked', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 80, noNaN: true }),
        fc.constantFrom<'A' | 'W'>('A', 'W'),
        fc.constantFrom(1, 2, 3),
        fc.double({ min: 100, max: 260, noNaN: true }),
        fc.constantFrom<'Absolute' | 'Relative' | 'Recurring'>('Absolute', 'Relative', 'Recurring'),
        (rawA, unit, phases, voltageV, kind) => {
          const limitA = limitForCharger(rawA);
          const request = buildSetChargingProfile(
            spec({ limitA, unit, phases, voltageV, kind, statePhases: true }),
          );
          assert.equal(findViolation('SetChargingProfile', 'request', request), undefined);
          const limit = request.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]
            ?.limit as number;
          const asA = unit === 'A' ? limit : limit / (voltageV * phases);
          assert.ok(asA <= rawA + 1e-9, `${asA} A > ${rawA} A`);
          // Down to a tenth that a naive multipleOf 0.1 check takes: at most 0.3 below (floorToSchemaTenth).
          assert.ok(rawA - asA < 0.3 + 1e-6 + (unit === 'W' ? 0.3 / (voltageV * phases) : 0));
          assert.ok(Number.isInteger(limit / 0.1), `${limit} / 0.1 is not a whole number in floating point`);
        },
      ),
    );
  });

  it('reads the limit now from a composite schedule, converting the unit where the charger answered in the other', () => {
    const response = {
      status: 'Accepted' as const,
      connectorId: 1,
      scheduleStart: '2026-01-01T12:00:00.000Z',
      chargingSchedule: {
        duration: 300,
        chargingRateUnit: 'W' as const,
        chargingSchedulePeriod: [
          { startPeriod: 0, limit: 3680, numberPhases: 1 },
          { startPeriod: 120, limit: 0 },
        ],
      },
    };
    assert.equal(compositeLimitNow(response, 'W', 230, 1), 3680);
    assert.equal(compositeLimitNow(response, 'A', 230, 3), 16);
    assert.equal(compositeLimitNow({ status: 'Rejected' }, 'A', 230, 3), undefined);
  });
});
