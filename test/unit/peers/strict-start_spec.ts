import assert from 'node:assert/strict';
import type { ConnectorState } from '../../../lib/contracts';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { until, usePeerCarPark } from '../../support/peer-site';
import { PlainCharger } from '../../support/plain-charger';

/**
 * A charger as strict as OCPP 1.6 §3.13.2 and §5.16 allow: a TxProfile for a transaction it has not
 * been answered yet is Rejected. A room between the chargers and the central system's own answers
 * (the operator's backend: lib/upstream) hands the StartTransaction answer on a while after the
 * central system recorded the transaction; nothing about the transaction may reach the charger
 * before that answer does (issue #30: a car charged at 0 A for its whole session).
 */

/** A room between that holds every StartTransaction answer `ms` after the central system recorded it. */
function slowStartAnswers(cs: CentralSystem, ms: number): () => void {
  return cs.interpose({
    request: async (_id, action, request, local) => {
      const answer = await local(request);
      if (action === 'StartTransaction') await new Promise((resolve) => setTimeout(resolve, ms));
      return answer;
    },
    command: (_id, _action, request) => request,
  });
}

describe('a strict charger behind a slow StartTransaction answer', () => {
  const { harness, chargers, cleanups, connected, onLine } = usePeerCarPark(
    (identity, options) => new PlainCharger(identity, { ...options, strictTransactions: true }),
  );

  it('gets a TxProfile for its new transaction only after the answer that starts it', async () => {
    const cs = await harness().centralSystem();
    cleanups.push(slowStartAnswers(cs, 150));
    const cp = await connected(cs, 'STRICT-1');
    const answers: string[] = [];
    cs.on('connector', (state: ConnectorState) => {
      const transactionId = state.transaction?.transactionId;
      if (transactionId === undefined || answers.length > 0) return;
      answers.push('sent');
      void cs
        .call('STRICT-1', 'SetChargingProfile', {
          connectorId: 1,
          csChargingProfiles: {
            chargingProfileId: 1,
            transactionId,
            stackLevel: 1,
            chargingProfilePurpose: 'TxProfile',
            chargingProfileKind: 'Relative',
            chargingSchedule: {
              chargingRateUnit: 'A',
              chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }],
            },
          },
        })
        .then((answer) => answers.push(answer.status));
    });
    const outcome = await cp.startSession(1, 'TAG-S', { maxA: 32, phases: 3 });
    assert.equal(outcome.start, 'Accepted');
    await until(chargers, () => answers.length === 2);
    assert.deepEqual(answers, ['sent', 'Accepted'], 'the charger knew the transaction the profile names');
    assert.equal(cp.offeredA(1), 10);
    assert.deepEqual(cp.violations, []);
  });

  it('charges its car under the load manager in every one of 6 sessions', async () => {
    const cs = await harness().centralSystem();
    cleanups.push(slowStartAnswers(cs, 40));
    await onLine(cs, ['STRICT-1'], 32);
    const cp = chargers[0] as PlainCharger;
    for (let session = 1; session <= 6; session++) {
      const outcome = await cp.startSession(1, `TAG-${session}`, { maxA: 16, phases: 3 });
      assert.equal(outcome.start, 'Accepted');
      await until(chargers, () => (cp.drawA(1)[0] ?? 0) >= 16);
      await cp.stopSession(1);
    }
    assert.deepEqual(cp.violations, []);
    assert.deepEqual(harness().log.matching(/used from now on|composite schedule says/), []);
  });
});
