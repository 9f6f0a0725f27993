import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../../lib/clock';
import type { ConnectorState } from '../../../lib/contracts';
import type { SiteConfig } from '../../../lib/dlm/site';
import type { ProfileManagerOptions } from '../../../lib/profiles';
import { until } from '../../support/events';
import { EvpowerCharger } from '../../support/evpower-charger';
import { controlLoop, useOcppCleanups } from '../../support/peer-site';

/**
 * Issue 45, item 1, end to end: the shipped example *Load manager - share a car park's breakers*
 * as it is (its site, `offlineA` 6 A), a real central system, the load manager and the
 * charging-profile manager wired as the nodes wire them, on one injected clock, and OCPP 1.6
 * chargers not written here (@evpower/ocpp-ts) whose GetConfiguration lacks
 * ChargeProfileMaxStackLevel. Four cars on the otherwise empty 63 A zone (the grid meter reads
 * what they draw): each has at least 15 A within 60 s. Was 6 A each for ever: their limits went
 * at stack level 0, so they took no offline fallback, and each was held at its `offlineA`.
 */

const KEYS = [
  ['CP-1', 1],
  ['CP-2', 1],
  ['CP-3', 1],
  ['CP-3', 2],
] as const;

function exampleSite(): SiteConfig {
  const file = join(__dirname, "../../../examples/Load manager - share a car park's breakers.json");
  const flow = JSON.parse(readFileSync(file, 'utf8')) as { type: string; site?: string }[];
  return JSON.parse(flow.find((node) => node.type === 'ampflow-dlm')?.site ?? '{}') as SiteConfig;
}

describe('the shipped car-park example with chargers that lack ChargeProfileMaxStackLevel (issue 45, @evpower/ocpp-ts)', () => {
  const { harness, cleanups } = useOcppCleanups();

  /**
   * The example's car park with four cars plugged in, run `seconds` on the injected clock in 1 s
   * steps; each step waits until the profiles went and every charger's report of what its car
   * draws has reached the load manager (events, never a fixed time).
   */
  async function fourCars(seconds: number, profileOptions: ProfileManagerOptions = {}) {
    const cs = await harness().centralSystem();
    const clock = new ManualClock(Date.now());
    const wired = controlLoop(cs, exampleSite(), clock, { clock, ...profileOptions });
    cleanups.push(wired.stop);
    const chargers = new Map<string, EvpowerCharger>();
    for (const [id, connectors] of [
      ['CP-1', 1],
      ['CP-2', 1],
      ['CP-3', 2],
    ] as const)
      chargers.set(id, new EvpowerCharger(id, connectors, { strict: true, withoutMaxStackLevel: true }));
    cleanups.push(() => Promise.all([...chargers.values()].map((cp) => cp.close())));
    const reported = new Map<string, ConnectorState>();
    cs.on('connector', (state: ConnectorState) =>
      reported.set(`${state.chargePointId}/${state.connectorId}`, state),
    );
    for (const cp of chargers.values()) await cp.connect(`ws://127.0.0.1:${cs.port}${cs.pathPrefix}`);
    const charger = (id: string) => chargers.get(id) as EvpowerCharger;
    const wake: [EvpowerCharger | typeof cs, string][] = [
      ...[...chargers.values()].map((cp): [EvpowerCharger, string] => [cp, 'change']),
      [cs, 'connector'],
    ];
    /** Every connector's last report shows what its car draws now. */
    const inSync = () =>
      KEYS.every(([id, connectorId]) => {
        const draw = charger(id).drawA(connectorId);
        const seen = reported.get(`${id}/${connectorId}`)?.currentA ?? [0, 0, 0];
        return draw.every((a, p) => Math.abs((a ?? 0) - (seen[p] ?? 0)) < 0.05);
      });
    const step = async () => {
      clock.advance(1000);
      // The grid meter (it counts the chargers) reads what the cars draw: nothing else runs.
      const lineA = [0, 1, 2].map((p) =>
        KEYS.reduce((sum, [id, connectorId]) => sum + (charger(id).drawA(connectorId)[p] ?? 0), 0),
      ) as [number, number, number];
      wired.manager.reading({
        source: 'grid-meter',
        timestamp: new Date(clock.now()).toISOString(),
        currentA: lineA,
      });
      await wired.manager.settled();
      await Promise.all([...chargers.keys()].map((id) => wired.profiles.whenSettled(id)));
      await until(inSync, wake, 5000, () => `reports behind: ${JSON.stringify([...reported.values()])}`);
    };
    for (const [n, [id, connectorId]] of KEYS.entries())
      assert.equal(
        await charger(id).startSession(connectorId, `TAG-${n}`, { maxA: 32, phases: 3 }),
        'Accepted',
      );
    let firstAtS: number | undefined;
    for (let s = 1; s <= seconds; s++) {
      await step();
      if (firstAtS === undefined && KEYS.every(([id, connectorId]) => charger(id).limitA(connectorId) >= 15))
        firstAtS = s;
    }
    const limits = KEYS.map(([id, connectorId]) => charger(id).limitA(connectorId));
    const reasons = wired.manager.setPoints().map((p) => `${p.chargePointId}/${p.connectorId}: ${p.reason}`);
    const zone = wired.manager.summary().circuits.find((c) => c.id === 'zone');
    assert.deepEqual(wired.feedErrors, []);
    return { limits, reasons, zone, firstAtS, chargers: [...chargers.values()] };
  }

  it('the default strategy: a fallback under limits at stack level 1; each car ≥ 15 A within 60 s', async function () {
    this.timeout(60_000);
    const { limits, reasons, zone, firstAtS, chargers } = await fourCars(60);
    console.log(`      each car ≥ 15 A after ${firstAtS} s on the injected clock: ${limits.join(', ')} A`);
    assert.ok(
      limits.every((a) => a >= 15),
      `limits ${limits.join(', ')} A: ${reasons.join(' | ')}`,
    );
    // The offline fallback: a TxDefaultProfile on connector 0 at stack level 0, the limits above it.
    for (const cp of chargers) {
      const fallback = cp.profiles.find((p) => p.connectorId === 0);
      assert.equal(fallback?.csChargingProfiles.chargingProfilePurpose, 'TxDefaultProfile', cp.identity);
      assert.equal(fallback?.csChargingProfiles.stackLevel, 0);
      assert.ok(
        cp.profiles.filter((p) => p.connectorId > 0).every((p) => p.csChargingProfiles.stackLevel === 1),
      );
    }
    // If ampflow stops now: four fallbacks of 6 A.
    assert.equal(zone?.offline?.connectorsA, 24, JSON.stringify(zone?.offline));
    assert.equal(zone?.offline?.fits, true);
  });

  it('a model that takes only stack level 0 (the ABB preset) keeps its last limit: each car ≥ 15 A within 60 s, not held by offlineA', async function () {
    this.timeout(60_000);
    const { limits, reasons, zone, firstAtS, chargers } = await fourCars(60, { strategy: 'abb-terra-ac' });
    console.log(`      each car ≥ 15 A after ${firstAtS} s on the injected clock: ${limits.join(', ')} A`);
    assert.ok(
      limits.every((a) => a >= 15),
      `limits ${limits.join(', ')} A: ${reasons.join(' | ')}`,
    );
    assert.ok(!chargers.some((cp) => cp.profiles.some((p) => p.connectorId === 0)), 'no fallback');
    // If ampflow stops now: the four kept limits, which fit the zone.
    assert.ok((zone?.offline?.connectorsA ?? 0) >= 60, JSON.stringify(zone?.offline));
    assert.equal(zone?.offline?.fits, true);
  });
});
