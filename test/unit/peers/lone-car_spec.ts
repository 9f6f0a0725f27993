import assert from 'node:assert/strict';
import type { SiteConfig } from '../../../lib/dlm/site';
import { until } from '../../support/events';
import type { EvpowerCharger } from '../../support/evpower-charger';
import { usePeerChargers } from '../../support/peer-site';

/**
 * Issue 45: a lone car on an empty 63 A zone, at a charger not written here (@evpower/ocpp-ts)
 * that reports its current only every 10 s whatever it is asked (MeterValueSampleInterval read-only,
 * nothing sent after a change) and stamps its meter values in whole seconds. Its periodic reading
 * falls right after the start's 6 A went in: stamped in the second before the start, that reading
 * was taken as older than it, and the car waited a whole interval more at its minimum. Now it
 * proves the charger follows (received after the charger confirmed its limit, stamped within a
 * second of it), and the car has its share within 10 s of its first limit. Real time, about 2 s.
 */

const WITHIN_MS = 10_000;

describe('a lone car at a charger that reports every 10 s in whole seconds (@evpower/ocpp-ts, real central system)', () => {
  const peers = usePeerChargers();

  it('has its share within 10 s of its first limit', async function () {
    this.timeout(3 * WITHIN_MS);
    const site: SiteConfig = {
      circuits: [{ id: 'zone', limitA: 63 }],
      connectors: [{ chargePointId: 'EVP-1', circuit: 'zone', maxA: 32 }],
      unbalanceLimitA: null,
    };
    const { cs, wired, chargers, wake } = await peers.evpower(['EVP-1'], site, {
      reportsAfterChange: false,
      fixedSampleIntervalS: 10,
      wholeSecondStamps: true,
    });
    const [charger] = chargers as [EvpowerCharger];
    // Its 10 s samples fall right after its first limit went in: once the central system has the
    // charger's answer, in the next whole second. Sampled at 'profile' itself, the reading raced the
    // answer on the wire, and one that arrives first proves nothing (takenAfterStart); sampled in the
    // same whole second as a reading the charger sent before the answer, it repeats that one's stamp
    // and values and is no new measurement (failed 4 of 14 runs of the peers folder and once in CI,
    // at 10,003 ms). A reading stamped in the second before the start that proves it is the dlm
    // harness's case (measured-headroom_spec, on a ManualClock).
    let firstLimitAt: number | undefined;
    charger.once('profile', () => {
      firstLimitAt = Date.now();
      until(
        () => cs.connectorOf('EVP-1', 1)?.limitInForce !== undefined,
        [[cs, 'connector']],
        WITHIN_MS,
      ).then(
        () => setTimeout(() => charger.sampleNow(), 1005 - (Date.now() % 1000)),
        () => undefined,
      );
    });
    assert.equal(await charger.startSession(1, 'TAG-0', { maxA: 32, phases: 3 }), 'Accepted');
    await until(() => firstLimitAt !== undefined, wake, WITHIN_MS);
    await until(() => charger.limitA(1) === 32, wake, 2 * WITHIN_MS).catch((err) => {
      throw new Error(`${err.message}: ${JSON.stringify(wired.manager.setPoints())}`);
    });
    const ms = Date.now() - (firstLimitAt ?? 0);
    console.log(`      its share (32 A) in force ${ms} ms after its first limit (6 A)`);
    assert.ok(
      ms <= WITHIN_MS,
      `${ms} ms: ${JSON.stringify(wired.manager.summary().connectors.map((c) => c.reason))}`,
    );
    assert.deepEqual(wired.feedErrors, []);
  });
});
