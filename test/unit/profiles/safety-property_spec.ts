import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CentralSystemAction } from '../../../lib/ocpp/connection';
import type { SetPointInput, StrategyChoice } from '../../../lib/profiles';
import { limitForCharger } from '../../../lib/profiles';
import type { SimulatedChargePointOptions } from '../../../sim/charge-point';
import type { InteropChargePoint } from '../interop/support';
import { gaveUp } from './refusals';
import { type ProfileRig, settled, startCharging, useProfileRig } from './support';

/**
 * Random sequences of set-points (limits, pauses, phase changes, connectors 0, 1 and 2), sessions
 * starting and stopping, time passing and the charger refusing commands now and then, against the
 * simulated charger of one model. What must always hold:
 *
 * 1. After each step, once nothing is on its way: a connector the manager reports as confirmed is
 *    offered at most its limit (the lower of its own set-point and connector 0's), in its offer and
 *    in its composite schedule. One that is not confirmed (a refusal, a held increase) is offered
 *    no more than its limit or what it was offered before the step: the manager never raises a
 *    connector above its limit, a failed decrease leaves the old current, never a higher one. A
 *    session that starts is bounded by the limit confirmed for its connector.
 * 2. Once the charger stops refusing and time passes (held increases, retries): every connector is
 *    confirmed and offered at most its limit.
 */

type Step =
  | { kind: 'setPoint'; connectorId: 0 | 1 | 2; limitA: number; phases?: 1 | 3 }
  | { kind: 'start'; connectorId: 1 | 2 }
  | { kind: 'stop'; connectorId: 1 | 2 }
  | { kind: 'wait'; ms: number }
  | { kind: 'refuseNext' }
  /** The next command is carried out, but its answer comes after the manager gave up waiting. */
  | { kind: 'answerLate' };

interface Model {
  name: string;
  sim: Partial<SimulatedChargePointOptions>;
  strategy?: StrategyChoice;
  limitStepsA?: number[];
  /** No GetCompositeSchedule (no SmartCharging). */
  noComposite?: boolean;
}

const MODELS: Model[] = [
  { name: 'by the spec', sim: {} },
  {
    name: 'TxDefaultProfile from the next session',
    sim: { vendorBehaviour: { txDefaultFromNextSession: true } },
  },
  { name: 'ABB Terra AC', sim: { vendorBehaviour: 'abb-terra-ac' } },
  {
    name: 'EVlink R4/R5 (key only)',
    sim: { vendorBehaviour: 'schneider-evlink-r4-r5' },
    strategy: 'schneider-evlink-r4-r5',
    noComposite: true,
  },
  {
    name: 'NEcharge steps',
    sim: { vendorBehaviour: 'necharge' },
    strategy: 'necharge',
    limitStepsA: [6, 8, 10, 13, 16],
  },
  {
    name: 'TxDefaultProfile-only strategy on a charger that applies it from the next session',
    sim: { vendorBehaviour: { txDefaultFromNextSession: true } },
    strategy: 'txdefault',
  },
  {
    name: 'EVlink R6/R7',
    sim: { vendorBehaviour: 'schneider-evlink-r6-r7' },
    strategy: 'schneider-evlink-r6-r7',
  },
  { name: 'Huawei (W)', sim: { vendorBehaviour: 'huawei' }, strategy: 'huawei' },
];

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record(
      {
        kind: fc.constant('setPoint' as const),
        connectorId: fc.constantFrom(0 as const, 1 as const, 2 as const),
        limitA: fc.constantFrom(0, 4, 6, 8, 10, 13, 16, 20, 32),
        phases: fc.constantFrom(1 as const, 3 as const),
      },
      { requiredKeys: ['kind', 'connectorId', 'limitA'] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('start' as const),
      connectorId: fc.constantFrom(1 as const, 2 as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('stop' as const),
      connectorId: fc.constantFrom(1 as const, 2 as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.constantFrom(0, 1000, 5000, 11_000) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'refuseNext' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'answerLate' as const }) },
);

/** The manager's answer timeout in this test; a late answer comes once it ran out. */
const CALL_TIMEOUT_MS = 100;

describe('Profiles: property — no connector is ever offered more than its limit', function () {
  this.timeout(120_000);
  const { rig } = useProfileRig();

  it('holds over random set-points, sessions, time and refusals, for every simulated model', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...MODELS),
        fc.array(stepArbitrary, { minLength: 3, maxLength: Number(process.env.PROPERTY_STEPS ?? 12) }),
        async (model, steps) => {
          run += 1;
          const rigged = await rig({
            identity: `CP${run}`,
            sim: {
              ...model.sim,
              connectors: 2,
              configuration: { MeterValueSampleInterval: 0, ChargeProfileMaxStackLevel: 2 },
            },
            manager: {
              ...(model.strategy ? { strategy: model.strategy } : {}),
              callTimeoutMs: CALL_TIMEOUT_MS,
            },
          });
          await check(rigged, `CP${run}`, model, steps);
        },
      ),
      {
        numRuns: Number(process.env.PROPERTY_RUNS ?? 40),
        seed: Number(process.env.PROPERTY_SEED ?? 20_260_101),
        endOnFailure: true,
      },
    );
  });
});

async function check(rigged: ProfileRig, id: string, model: Model, steps: Step[]): Promise<void> {
  const { cp, cs, clock, manager } = rigged;
  const own = new Map<number, { limitA: number; phases?: number }>();
  /** How many of the next commands the charger refuses, and how many after those it answers late. */
  const upcoming = { refuseNext: 0, answerLate: 0 };
  // A charger handles one command after the other: one answered late holds up the ones after it.
  // Whether a command is refused or late is decided as it arrives (a step changes the counts only
  // once nothing is on its way), so a late one starts waiting for its own timeout at once.
  let queue: Promise<unknown> = Promise.resolve();
  const answer = <T>(action: CentralSystemAction, next: () => Promise<T>, rejected: T): Promise<T> => {
    const refused = upcoming.refuseNext > 0;
    if (refused) upcoming.refuseNext -= 1;
    const lateUntil = !refused && upcoming.answerLate > 0 ? gaveUp(cs, action, id) : undefined;
    if (lateUntil) upcoming.answerLate -= 1;
    const turn = queue.then(async () => {
      if (refused) return rejected;
      await lateUntil;
      return next();
    });
    queue = turn.catch(() => undefined);
    return turn;
  };
  cp.override('SetChargingProfile', (_request, next) =>
    answer('SetChargingProfile', next, { status: 'Rejected' as const }),
  );
  cp.override('ChangeConfiguration', (_request, next) =>
    answer('ChangeConfiguration', next, { status: 'Rejected' as const }),
  );
  cp.override('ClearChargingProfile', (_request, next) =>
    answer('ClearChargingProfile', next, { status: 'Unknown' as const }),
  );
  const charging = new Set<number>();
  const targetA = (limitA: number) => limitForCharger(limitA < 6 ? 0 : limitA, model.limitStepsA);
  /** The limit of a connector: the lower of its own set-point and connector 0's (none: unbounded). */
  const limitOf = (connectorId: number) =>
    Math.min(
      own.has(connectorId) ? targetA(own.get(connectorId)?.limitA as number) : Number.POSITIVE_INFINITY,
      own.has(0) ? targetA(own.get(0)?.limitA as number) : Number.POSITIVE_INFINITY,
    );
  const confirmed = (connectorId: number) => {
    const state = manager.charger(id)?.connectors;
    const entry = state?.find((connector) => connector.connectorId === connectorId);
    const zero = state?.find((connector) => connector.connectorId === 0);
    if (entry?.limitA !== undefined) return entry.confirmed && (!zero || zero.confirmed);
    // Without an entry of its own, connector 0's TxDefaultProfile (or charger-wide limit) holds it.
    return !own.has(connectorId) && (!zero || zero.confirmed);
  };
  // Nothing on its way: the manager settled and the charger worked off the commands it got (a late
  // one included), so what it offers is what the manager's last commands made of it.
  const settle = async () => {
    for (let round = 0; round < 2; round++) {
      clock.advance(0);
      await settled({ cp, manager }, id);
      await queue;
    }
    await settled({ cp, manager }, id);
  };
  const history: string[] = [];
  const fail = (message: string) => {
    assert.fail(`${model.name}: ${message}\nsteps: ${history.join(' | ')}`);
  };

  for (const step of steps) {
    const before = new Map([1, 2].map((connectorId) => [connectorId, cp.connector(connectorId).offeredA]));
    const startedNow = new Set<number>();
    history.push(JSON.stringify(step));
    switch (step.kind) {
      case 'setPoint': {
        own.set(step.connectorId, { limitA: step.limitA, ...(step.phases ? { phases: step.phases } : {}) });
        const setPoint: SetPointInput = {
          chargePointId: id,
          connectorId: step.connectorId,
          limitA: step.limitA,
          ...(step.phases ? { phases: step.phases } : {}),
          reason: 'property',
        };
        void manager.apply(setPoint);
        break;
      }
      case 'start':
        if (charging.has(step.connectorId)) break;
        await startCharging(cp as InteropChargePoint, step.connectorId, { maxCurrentA: 32, phases: 3 }).catch(
          () => undefined,
        );
        if (cp.connector(step.connectorId).transaction) {
          charging.add(step.connectorId);
          startedNow.add(step.connectorId);
        }
        break;
      case 'stop':
        if (!charging.has(step.connectorId)) break;
        await cp.stopTransaction(step.connectorId);
        cp.unplug(step.connectorId);
        charging.delete(step.connectorId);
        break;
      case 'refuseNext':
      case 'answerLate':
        upcoming[step.kind] += 1;
        break;
      case 'wait':
        clock.advance(step.ms);
        break;
    }
    await settle();
    for (const connectorId of charging) {
      const offeredA = cp.connector(connectorId).offeredA;
      const limitA = limitOf(connectorId);
      if (confirmed(connectorId)) {
        if (offeredA > limitA + 1e-9)
          fail(`connector ${connectorId} is confirmed but offered ${offeredA} A, limit ${limitA} A`);
      } else if (!startedNow.has(connectorId)) {
        const bound = Math.max(limitA, before.get(connectorId) ?? 0);
        if (offeredA > bound + 1e-9)
          fail(
            `connector ${connectorId} offered ${offeredA} A, above its limit ${limitA} A and the ${before.get(connectorId)} A before`,
          );
      }
    }
  }

  // The charger stops refusing; held increases and retries run.
  upcoming.refuseNext = 0;
  upcoming.answerLate = 0;
  cp.override('SetChargingProfile', undefined);
  cp.override('ChangeConfiguration', undefined);
  cp.override('ClearChargingProfile', undefined);
  for (const waitMs of [11_000, 5000, 10_000, 30_000, 60_000, 60_000]) {
    clock.advance(waitMs);
    await settle();
  }
  for (const connectorId of [1, 2]) {
    if (!confirmed(connectorId))
      fail(`connector ${connectorId} is not confirmed once the charger takes commands`);
    if (!charging.has(connectorId)) continue;
    const offeredA = cp.connector(connectorId).offeredA;
    const limitA = limitOf(connectorId);
    if (offeredA > limitA + 1e-9) fail(`connector ${connectorId} offered ${offeredA} A, limit ${limitA} A`);
    if (model.noComposite) continue;
    const schedule = await cs.call(id, 'GetCompositeSchedule', {
      connectorId,
      duration: 60,
      chargingRateUnit: 'A',
    });
    const nowA = schedule.chargingSchedule?.chargingSchedulePeriod[0]?.limit;
    if (nowA !== undefined && nowA > limitA + 1e-9)
      fail(`connector ${connectorId}: composite schedule ${nowA} A, limit ${limitA} A`);
  }
}
