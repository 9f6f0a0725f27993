import assert from 'node:assert/strict';
import {
  ChargingProfileStore,
  type ConnectorView,
  EXTERNAL_CONSTRAINTS,
  isProfile16,
  type LimitContext,
  type ModelProfile,
} from '../../../lib/ocpp/charging-profiles';
import {
  type ChargingProfile201,
  type ChargingSchedule201,
  clearFrom201,
  compositeTo201,
  profileFrom201,
  profileTo201,
  purposeFrom201,
  refusal201,
} from '../../../lib/ocpp/v201/charging-profiles';

/**
 * OCPP 2.0.1 charging profiles in the shared model (lib/ocpp/v201/charging-profiles.ts): the
 * conversion both ways, and the composite schedule (K08) of 2.0.1 profiles: units, EVSE 0 and the
 * EVSEs, the station's maximum and the external constraints, validity and recurrence.
 */

const T0 = Date.UTC(2026, 0, 1);
const HOUR_S = 3600;
const iso = (ms: number) => new Date(ms).toISOString();

/** EVSE 1 runs transaction 11 (the station's 'tx-11') since T0; EVSE 2 is free. */
const evse1: ConnectorView = {
  connectorId: 1,
  phases: 3,
  maxCurrentA: 32,
  transaction: { key: 1, transactionId: 11, startMs: T0 },
};
const context: LimitContext = {
  voltageV: 230,
  connectors: [evse1, { connectorId: 2, phases: 3, maxCurrentA: 32 }],
};
const TRANSACTIONS: Record<string, number> = { 'tx-11': 11 };

type Fields = Partial<Omit<ChargingProfile201, 'chargingSchedule'>> & {
  /** [startPeriod, limit] pairs; one period of 16 A unless given. */
  limits?: [number, number][];
  unit?: 'A' | 'W';
  numberPhases?: number;
  schedule?: Partial<ChargingSchedule201>;
};

/** A 2.0.1 Absolute TxDefaultProfile from T0, id 1 at stack level 0, in A; other fields as given. */
function p201(fields: Fields = {}): ChargingProfile201 {
  const { limits = [[0, 16]], unit = 'A', numberPhases, schedule = {}, ...rest } = fields;
  return {
    id: 1,
    stackLevel: 0,
    chargingProfilePurpose: 'TxDefaultProfile',
    chargingProfileKind: 'Absolute',
    chargingSchedule: [
      {
        id: 1,
        startSchedule: iso(T0),
        chargingRateUnit: unit,
        chargingSchedulePeriod: limits.map(([startPeriod, limit]) => ({
          startPeriod,
          limit,
          ...(numberPhases === undefined ? {} : { numberPhases }),
        })),
        ...schedule,
      },
    ],
    ...rest,
  };
}

/** Converts a 2.0.1 SetChargingProfile and installs it as the station would (the TxProfile with its transaction). */
function set(store: ChargingProfileStore, evseId: number, profile: ChargingProfile201): ModelProfile {
  const transactionId = profile.transactionId === undefined ? undefined : TRANSACTIONS[profile.transactionId];
  const shared = profileFrom201(profile, transactionId);
  assert.ok(shared, `profile ${profile.id} converts`);
  const key = shared.chargingProfilePurpose === 'TxProfile' ? 1 : undefined;
  store.install(evseId, shared, T0, key);
  return shared;
}

/** The periods of EVSE `evseId`'s composite schedule from T0 for `durationS`, in `unit`. */
const periods = (store: ChargingProfileStore, evseId: number, durationS: number, unit: 'A' | 'W' = 'A') =>
  store.compositeSchedule(evseId, T0, durationS, unit, context).chargingSchedule?.chargingSchedulePeriod;

describe('OCPP 2.0.1 charging profiles in the shared model', () => {
  it('turns W into A per phase over numberPhases, 3 when absent, and back in a W composite', () => {
    const store = new ChargingProfileStore();
    set(store, 0, p201({ unit: 'W', limits: [[0, 11040]] }));
    // 11040 W over three phases at 230 V: 16 A on each (not 48 A, not 11040 A).
    assert.deepEqual(periods(store, 1, 600), [{ startPeriod: 0, limit: 16 }]);
    assert.deepEqual(periods(store, 2, 600), [{ startPeriod: 0, limit: 16 }]);
    const tx = set(
      store,
      1,
      p201({
        id: 2,
        chargingProfilePurpose: 'TxProfile',
        transactionId: 'tx-11',
        unit: 'W',
        numberPhases: 1,
        limits: [[0, 2300]],
      }),
    );
    assert.equal(tx.transactionId, 11);
    // 2300 W on one phase: 10 A on that phase (3.3 A if read as three phases).
    assert.deepEqual(periods(store, 1, 600), [{ startPeriod: 0, limit: 10, numberPhases: 1 }]);
    assert.deepEqual(periods(store, 1, 600, 'W'), [{ startPeriod: 0, limit: 2300, numberPhases: 1 }]);
    assert.equal(store.transactionLimitAt(evse1, T0, 230, T0)?.phases, 1);
    // The other EVSE keeps the TxDefaultProfile: 16 A × 230 V × 3.
    assert.deepEqual(periods(store, 2, 600, 'W'), [{ startPeriod: 0, limit: 11040 }]);
  });

  it('caps a TxProfile with the ChargingStationMaxProfile of EVSE 0; EVSE 0 reports the whole station', () => {
    const store = new ChargingProfileStore();
    const max = set(
      store,
      0,
      p201({
        id: 3,
        chargingProfilePurpose: 'ChargingStationMaxProfile',
        limits: [
          [0, 10],
          [600, 40],
        ],
      }),
    );
    assert.equal(max.chargingProfilePurpose, 'ChargePointMaxProfile');
    set(
      store,
      1,
      p201({ id: 4, chargingProfilePurpose: 'TxProfile', transactionId: 'tx-11', limits: [[0, 20]] }),
    );
    assert.deepEqual(periods(store, 1, 1200), [
      { startPeriod: 0, limit: 10 },
      { startPeriod: 600, limit: 20 },
    ]);
    // EVSE 2 has no profile of its own: its rating, under the station's maximum.
    assert.deepEqual(periods(store, 2, 1200), [
      { startPeriod: 0, limit: 10 },
      { startPeriod: 600, limit: 32 },
    ]);
    // EVSE 0: what the station may draw, 20 A + 32 A, capped by the maximum.
    assert.deepEqual(periods(store, 0, 1200), [
      { startPeriod: 0, limit: 10 },
      { startPeriod: 600, limit: 40 },
    ]);
    assert.deepEqual(store.check(1, max, rules(), undefined), {
      status: 'Rejected',
      reason: 'ChargePointMaxProfile is only allowed on connector 0',
    });
  });

  it("applies EVSE 0's TxDefaultProfile to every EVSE, an EVSE's own over it, and a TxProfile over both", () => {
    const store = new ChargingProfileStore();
    set(store, 0, p201({ id: 5, stackLevel: 1, limits: [[0, 12]] }));
    set(store, 2, p201({ id: 6, stackLevel: 0, limits: [[0, 20]] }));
    assert.deepEqual(periods(store, 1, 60), [{ startPeriod: 0, limit: 12 }]);
    assert.deepEqual(periods(store, 2, 60), [{ startPeriod: 0, limit: 20 }]);
    assert.deepEqual(periods(store, 0, 60), [{ startPeriod: 0, limit: 32 }]);
    set(
      store,
      1,
      p201({ id: 7, chargingProfilePurpose: 'TxProfile', transactionId: 'tx-11', limits: [[0, 8]] }),
    );
    assert.deepEqual(periods(store, 1, 60), [{ startPeriod: 0, limit: 8 }]);
    assert.deepEqual(periods(store, 2, 60), [{ startPeriod: 0, limit: 20 }]);
    // The transaction ends: its TxProfile goes, EVSE 0's TxDefaultProfile applies again.
    store.removeTransactionProfiles(1);
    assert.deepEqual(periods(store, 1, 60), [{ startPeriod: 0, limit: 12 }]);
  });

  it('combines ChargingStationExternalConstraints by minimum: on EVSE 0 for the station, on an EVSE for it', () => {
    const store = new ChargingProfileStore();
    set(store, 0, p201({ id: 10, limits: [[0, 16]] }));
    const external = p201({ id: 11, chargingProfilePurpose: EXTERNAL_CONSTRAINTS, limits: [[0, 10]] });
    const shared = set(store, 1, external);
    assert.equal(shared.chargingProfilePurpose, EXTERNAL_CONSTRAINTS);
    assert.equal(isProfile16(shared), false);
    // A higher stack level of external constraints prevails while it lasts.
    set(
      store,
      1,
      p201({
        id: 12,
        stackLevel: 1,
        chargingProfilePurpose: EXTERNAL_CONSTRAINTS,
        limits: [[0, 13]],
        schedule: { duration: 600 },
      }),
    );
    assert.deepEqual(periods(store, 1, 1200), [
      { startPeriod: 0, limit: 13 },
      { startPeriod: 600, limit: 10 },
    ]);
    assert.deepEqual(periods(store, 2, 1200), [{ startPeriod: 0, limit: 16 }]);
    // On EVSE 0 they cap the station as a whole, with its maximum: the lower of the two holds.
    set(store, 0, p201({ id: 13, chargingProfilePurpose: EXTERNAL_CONSTRAINTS, limits: [[0, 20]] }));
    assert.deepEqual(periods(store, 0, 1200), [{ startPeriod: 0, limit: 20 }]);
    assert.equal(store.chargePointLimitAt(T0, 230, T0)?.currentA, 20);
    set(store, 0, p201({ id: 14, chargingProfilePurpose: 'ChargingStationMaxProfile', limits: [[0, 18]] }));
    assert.equal(store.chargePointLimitAt(T0, 230, T0)?.currentA, 18);
    assert.deepEqual(periods(store, 2, 60), [{ startPeriod: 0, limit: 16 }]);
    assert.deepEqual(periods(store, 0, 60), [{ startPeriod: 0, limit: 18 }]);
    // The station's own energy management sets them, never the CSMS (K01.FR.22).
    assert.match(refusal201(external) ?? '', /not set by the CSMS/);
    assert.equal(refusal201(p201()), undefined);
  });

  it('keeps validity and recurrence: a Daily profile from validFrom to validTo', () => {
    const store = new ChargingProfileStore();
    set(
      store,
      0,
      p201({
        id: 20,
        chargingProfileKind: 'Recurring',
        recurrencyKind: 'Daily',
        validFrom: iso(T0 + 24 * HOUR_S * 1000),
        validTo: iso(T0 + 60 * HOUR_S * 1000),
        limits: [
          [0, 6],
          [8 * HOUR_S, 16],
          [20 * HOUR_S, 6],
        ],
        schedule: { duration: 24 * HOUR_S },
      }),
    );
    // Before validFrom and from validTo on: the rating. In between: 6 A at night, 16 A from 08:00 to 20:00.
    assert.deepEqual(periods(store, 2, 72 * HOUR_S), [
      { startPeriod: 0, limit: 32 },
      { startPeriod: 24 * HOUR_S, limit: 6 },
      { startPeriod: 32 * HOUR_S, limit: 16 },
      { startPeriod: 44 * HOUR_S, limit: 6 },
      { startPeriod: 56 * HOUR_S, limit: 16 },
      { startPeriod: 60 * HOUR_S, limit: 32 },
    ]);
    assert.equal(store.nextChangeAfter(T0 + 33 * HOUR_S * 1000, context), T0 + 44 * HOUR_S * 1000);
  });

  it('takes the first of several schedules, rounds limits down to tenths, and leaves phaseToUse out', () => {
    const profile: ChargingProfile201 = {
      id: 30,
      stackLevel: 2,
      chargingProfilePurpose: 'ChargingStationMaxProfile',
      chargingProfileKind: 'Absolute',
      chargingSchedule: [
        {
          id: 7,
          startSchedule: iso(T0),
          duration: 3600,
          chargingRateUnit: 'A',
          minChargingRate: 6.06,
          chargingSchedulePeriod: [{ startPeriod: 0, limit: 8.55, numberPhases: 1, phaseToUse: 2 }],
        },
        { id: 8, chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 1000 }] },
      ],
    };
    assert.deepEqual(profileFrom201(profile, undefined), {
      chargingProfileId: 30,
      stackLevel: 2,
      chargingProfilePurpose: 'ChargePointMaxProfile',
      chargingProfileKind: 'Absolute',
      chargingSchedule: {
        duration: 3600,
        startSchedule: iso(T0),
        chargingRateUnit: 'A',
        minChargingRate: 6,
        chargingSchedulePeriod: [{ startPeriod: 0, limit: 8.5, numberPhases: 1 }],
      },
    });
    assert.equal(profileFrom201({ ...profile, chargingSchedule: [] }, undefined), undefined);
  });

  it('converts back to 2.0.1: the station max by its name, the transaction by its string id', () => {
    const tx = p201({
      id: 40,
      chargingProfilePurpose: 'TxProfile',
      chargingProfileKind: 'Relative',
      transactionId: 'tx-11',
      validTo: iso(T0 + 3600_000),
      limits: [
        [0, 10],
        [900, 6.5],
      ],
      schedule: { id: 40 },
    });
    // A Relative schedule starts with the transaction: no startSchedule.
    delete tx.chargingSchedule[0]?.startSchedule;
    const shared = profileFrom201(tx, 11);
    assert.ok(shared);
    assert.deepEqual(profileTo201(shared, 'tx-11'), tx);
    // A profile for a transaction with no station id has no 2.0.1 form; one for an unknown 2.0.1 transaction no model form.
    assert.equal(profileTo201(shared, undefined), undefined);
    assert.equal(profileFrom201(tx, undefined), undefined);
    const max = profileFrom201(
      p201({ id: 41, chargingProfilePurpose: 'ChargingStationMaxProfile' }),
      undefined,
    );
    assert.ok(max);
    assert.equal(profileTo201(max, undefined)?.chargingProfilePurpose, 'ChargingStationMaxProfile');
  });

  it('clears by 2.0.1 criteria: EVSE as connector, the purpose renamed', () => {
    const store = new ChargingProfileStore();
    set(store, 0, p201({ id: 50, chargingProfilePurpose: 'ChargingStationMaxProfile', limits: [[0, 20]] }));
    set(store, 0, p201({ id: 51, stackLevel: 1 }));
    set(store, 2, p201({ id: 52, stackLevel: 1 }));
    const criteria = clearFrom201({
      chargingProfileCriteria: { evseId: 0, chargingProfilePurpose: 'TxDefaultProfile', stackLevel: 1 },
    });
    assert.deepEqual(criteria, { connectorId: 0, chargingProfilePurpose: 'TxDefaultProfile', stackLevel: 1 });
    assert.equal(store.clear(criteria), true);
    assert.deepEqual(
      store.all().map((p) => p.profile.chargingProfileId),
      [50, 52],
    );
    assert.equal(
      store.clear(
        clearFrom201({ chargingProfileCriteria: { chargingProfilePurpose: 'ChargingStationMaxProfile' } }),
      ),
      true,
    );
    assert.deepEqual(clearFrom201({ chargingProfileId: 52 }), { id: 52 });
    assert.throws(() => purposeFrom201('ChargePointMaxProfile' as never), RangeError);
  });

  it("answers GetCompositeSchedule in 2.0.1's shape, EVSE 0 for the station", () => {
    const store = new ChargingProfileStore();
    set(store, 0, p201({ id: 60, chargingProfilePurpose: 'ChargingStationMaxProfile', limits: [[0, 20]] }));
    const response = store.compositeSchedule(0, T0, 600, 'W', context);
    assert.deepEqual(compositeTo201(response, 0, 600, iso(T0)), {
      status: 'Accepted',
      schedule: {
        evseId: 0,
        duration: 600,
        scheduleStart: iso(T0),
        chargingRateUnit: 'W',
        chargingSchedulePeriod: [{ startPeriod: 0, limit: 20 * 230 * 3 }],
      },
    });
    assert.deepEqual(compositeTo201({ status: 'Rejected' }, 3, 600, iso(T0)), { status: 'Rejected' });
  });
});

function rules() {
  return {
    numberOfConnectors: 2,
    maxStackLevel: 8,
    maxPeriods: 24,
    maxInstalled: 16,
    allowedUnits: new Set<'A' | 'W'>(['A', 'W']),
  };
}
