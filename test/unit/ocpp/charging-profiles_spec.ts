import assert from 'node:assert/strict';
import { ChargingProfileStore, type LimitContext } from '../../../lib/ocpp/charging-profiles';
import { chargingProfile } from '../../support/charging-profiles';

/**
 * The charging-profile model both OCPP versions share (lib/ocpp/charging-profiles): stack levels,
 * validity, recurrence, W and A, clearing and the composite schedule, on the store alone. The
 * simulator's use of it is in test/unit/sim/smart-charging_spec.ts, 2.0.1's in
 * test/unit/ocpp201/charging-profiles_spec.ts.
 */

const T0 = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();

/** An Absolute TxDefaultProfile from T0, id 1 at stack level 0, in A; other fields as given. */
const profile = chargingProfile;

describe('Charging profiles: ChargingProfileStore', () => {
  const context: LimitContext = {
    voltageV: 230,
    connectors: [
      { connectorId: 1, phases: 3, maxCurrentA: 32, transaction: { key: 1, transactionId: 11, startMs: T0 } },
      { connectorId: 2, phases: 3, maxCurrentA: 32 },
    ],
  };

  /** The periods of connector `connectorId`'s composite schedule for `durationS` from T0, in A. */
  const periods = (store: ChargingProfileStore, connectorId: number, durationS: number) =>
    store.compositeSchedule(connectorId, T0, durationS, 'A', context).chargingSchedule
      ?.chargingSchedulePeriod;

  it('takes the highest stack level valid now, and falls back when its duration ends (3.13.2, 5.16.4)', () => {
    const store = new ChargingProfileStore();
    store.install(0, profile({ chargingProfileId: 1, stackLevel: 0, limits: [[0, 16]] }), T0);
    const upper = profile({
      chargingProfileId: 2,
      stackLevel: 3,
      limits: [
        [0, 6],
        [600, 10],
      ],
    });
    upper.chargingSchedule.duration = 1800;
    store.install(0, upper, T0);
    const schedule = store.compositeSchedule(1, T0, 3600, 'A', context);
    assert.deepEqual(schedule, {
      status: 'Accepted',
      connectorId: 1,
      scheduleStart: iso(T0),
      chargingSchedule: {
        duration: 3600,
        chargingRateUnit: 'A',
        chargingSchedulePeriod: [
          { startPeriod: 0, limit: 6 },
          { startPeriod: 600, limit: 10 },
          { startPeriod: 1800, limit: 16 },
        ],
      },
    });
  });

  it('is the minimum of the ChargePointMaxProfile and the transaction profile; a TxProfile overrules TxDefaultProfile', () => {
    const store = new ChargingProfileStore();
    store.install(
      0,
      profile({
        chargingProfileId: 1,
        chargingProfilePurpose: 'ChargePointMaxProfile',
        limits: [
          [0, 20],
          [900, 8],
        ],
      }),
      T0,
    );
    store.install(0, profile({ chargingProfileId: 2, limits: [[0, 12]] }), T0);
    store.install(
      1,
      profile({
        chargingProfileId: 3,
        chargingProfilePurpose: 'TxProfile',
        chargingProfileKind: 'Relative',
        limits: [
          [0, 25],
          [1800, 16],
        ],
      }),
      T0,
      1,
    );
    assert.deepEqual(periods(store, 1, 3600), [
      { startPeriod: 0, limit: 20 },
      { startPeriod: 900, limit: 8 },
    ]);
    // Connector 2 has no transaction, so its TxDefaultProfile: min(12, ChargePointMax).
    assert.deepEqual(periods(store, 2, 3600), [
      { startPeriod: 0, limit: 12 },
      { startPeriod: 900, limit: 8 },
    ]);
    // Connector 0: what the charge point may draw, capped by ChargePointMaxProfile.
    assert.deepEqual(periods(store, 0, 600), [{ startPeriod: 0, limit: 20 }]);
  });

  it('converts W with the nominal voltage and numberPhases (3 when absent) both ways (7.12)', () => {
    const store = new ChargingProfileStore();
    store.install(
      0,
      profile({
        unit: 'W',
        limits: [
          [0, 11040],
          [600, 4140],
        ],
      }),
      T0,
    );
    assert.deepEqual(periods(store, 1, 1200), [
      { startPeriod: 0, limit: 16 },
      { startPeriod: 600, limit: 6 },
    ]);
    store.install(
      0,
      profile({ chargingProfileId: 2, stackLevel: 1, unit: 'W', numberPhases: 1, limits: [[0, 3680]] }),
      T0,
    );
    const single = store.compositeSchedule(1, T0, 600, 'W', context).chargingSchedule;
    assert.deepEqual(single?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 3680, numberPhases: 1 }]);
    assert.equal(store.compositeAt(1, T0, context, T0).currentA, 16);
  });

  it('repeats a Daily recurring profile (the 3.13.7 example: 6 kW from 08:00 to 20:00)', () => {
    const store = new ChargingProfileStore();
    store.install(
      0,
      {
        chargingProfileId: 100,
        stackLevel: 0,
        chargingProfilePurpose: 'TxDefaultProfile',
        chargingProfileKind: 'Recurring',
        recurrencyKind: 'Daily',
        chargingSchedule: {
          duration: 86400,
          startSchedule: '2013-01-01T00:00:00Z',
          chargingRateUnit: 'W',
          chargingSchedulePeriod: [
            { startPeriod: 0, limit: 11000, numberPhases: 3 },
            { startPeriod: 28800, limit: 6000, numberPhases: 3 },
            { startPeriod: 72000, limit: 11000, numberPhases: 3 },
          ],
        },
      },
      T0,
    );
    const day = store.compositeSchedule(1, T0 + 6 * 3600_000, 24 * 3600, 'W', context).chargingSchedule;
    assert.deepEqual(day?.chargingSchedulePeriod, [
      { startPeriod: 0, limit: 11000, numberPhases: 3 },
      { startPeriod: 2 * 3600, limit: 6000, numberPhases: 3 },
      { startPeriod: 14 * 3600, limit: 11000, numberPhases: 3 },
    ]);
    assert.equal(store.nextChangeAfter(T0 + 6 * 3600_000, context), T0 + 8 * 3600_000);
  });

  it("lets a connector's own TxDefaultProfile replace connector 0's for that connector only (3.13.1)", () => {
    const store = new ChargingProfileStore();
    store.install(0, profile({ chargingProfileId: 1, stackLevel: 2, limits: [[0, 10]] }), T0);
    store.install(2, profile({ chargingProfileId: 2, stackLevel: 0, limits: [[0, 20]] }), T0);
    assert.equal(store.compositeAt(1, T0, context, T0).currentA, 10);
    assert.equal(store.compositeAt(2, T0, context, T0).currentA, 20);
  });

  it('clears by id, by matching fields (logical AND), or everything (errata 3.25)', () => {
    const store = new ChargingProfileStore();
    store.install(0, profile({ chargingProfileId: 1, stackLevel: 0 }), T0);
    store.install(0, profile({ chargingProfileId: 2, stackLevel: 1 }), T0);
    store.install(
      0,
      profile({ chargingProfileId: 3, stackLevel: 0, chargingProfilePurpose: 'ChargePointMaxProfile' }),
      T0,
    );
    assert.equal(store.clear({ id: 99, stackLevel: 1 }), false);
    assert.equal(store.clear({ chargingProfilePurpose: 'TxDefaultProfile', stackLevel: 1 }), true);
    assert.deepEqual(
      store.all().map((p) => p.profile.chargingProfileId),
      [1, 3],
    );
    assert.equal(store.clear({}), true);
    assert.equal(store.all().length, 0);
  });
});
