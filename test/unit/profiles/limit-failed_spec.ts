import assert from 'node:assert/strict';
import { waitFor } from '../../support/events';
import { gaveUp, holdAnswer, refuseProfiles } from './refusals';
import { NO_OFFLINE_FALLBACK, setPoint, settled, startCharging, useProfileRig } from './support';

/**
 * A charger whose limit could not be set is told to the central system at once
 * (`ConnectorState.limitFailed`, issue #27): when it refused every way the plan knows, or did not
 * answer within the call timeout. The load manager counts the connector as uncontrolled from then
 * on, not after the retries' backoff.
 */

describe('Profiles: a limit that could not be set (limitFailed)', () => {
  const { rig } = useProfileRig();

  it('is reported when the charger refused every way, before any retry, and cleared once a limit is taken', async () => {
    const r = await rig();
    await startCharging(r.cp);
    refuseProfiles(r.cp, () => true);
    const [report] = await r.manager.apply(setPoint(10));
    assert.equal(report?.outcome, 'failed');
    const failed = r.cs.connectorOf('CP1', 1)?.limitFailed;
    assert.equal(failed?.limitA, 10, 'at once, with the limit it tried');
    // Each way the plan tried for the running session, once (its report lists both units of each).
    assert.deepEqual(
      [...new Set(report?.attempts.map((attempt) => attempt.method))],
      ['TxProfile', 'ChargePointMaxProfile'],
    );
    assert.equal(failed?.why, 'refused SetChargingProfile (TxProfile, ChargePointMaxProfile)');
    // The same as data, for the load manager to word in the user's language.
    assert.deepEqual(failed?.cause, {
      refused: [{ action: 'SetChargingProfile', ways: ['TxProfile', 'ChargePointMaxProfile'] }],
    });
    const since = failed?.since;

    r.clock.advance(5000); // the first retry: refused again
    await settled(r);
    assert.equal(r.cs.connectorOf('CP1', 1)?.limitFailed?.since, since, 'still failing since the first time');

    r.cp.override('SetChargingProfile', (_request, next) => next());
    r.clock.advance(10_000); // the second retry: taken
    await settled(r);
    assert.equal(r.cs.connectorOf('CP1', 1)?.limitInForce?.limitA, 10);
    assert.equal(r.cs.connectorOf('CP1', 1)?.limitFailed, undefined, 'a limit in force again');
  });

  it('is reported when the charger did not answer within the call timeout', async () => {
    const r = await rig({ manager: { callTimeoutMs: 200, ...NO_OFFLINE_FALLBACK } });
    const release = holdAnswer(r.cp, 'SetChargingProfile');
    const timedOut = gaveUp(r.cs, 'SetChargingProfile');
    const applied = r.manager.apply(setPoint(12));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(r.cs.connectorOf('CP1', 1)?.limitFailed, undefined, 'not while it may still answer');
    await timedOut;
    const [report] = await applied;
    assert.equal(report?.outcome, 'failed');
    assert.deepEqual(
      { ...r.cs.connectorOf('CP1', 1)?.limitFailed, since: undefined },
      {
        limitA: 12,
        why: 'did not answer SetChargingProfile within 200 ms',
        cause: { unanswered: { action: 'SetChargingProfile', within: '200 ms' } },
        since: undefined,
      },
    );
    release();
    await settled(r);
  });

  it('is withdrawn when the charger disconnects (its offline rules count then)', async () => {
    const r = await rig({ manager: NO_OFFLINE_FALLBACK });
    refuseProfiles(r.cp, () => true);
    await r.manager.apply(setPoint(10));
    assert.equal(r.cs.connectorOf('CP1', 1)?.limitFailed?.limitA, 10);
    const gone = waitFor(r.cs, 'disconnect');
    await r.cp.disconnect();
    await gone;
    assert.equal(r.cs.connectorOf('CP1', 1)?.limitFailed, undefined);
  });
});
