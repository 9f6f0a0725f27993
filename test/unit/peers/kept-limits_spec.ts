import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../../lib/clock';
import type { ConnectorState } from '../../../lib/contracts';
import type { SiteConfig } from '../../../lib/dlm/site';
import type { ProfileManagerOptions } from '../../../lib/profiles';
import { type Listenable, until } from '../../support/events';
import { EvpowerCharger } from '../../support/evpower-charger';
import { controlLoop, useOcppCleanups } from '../../support/peer-site';
import { PlainCharger } from '../../support/plain-charger';

/**
 * Issue 45, item 1, end to end: the shipped example *Load manager - share a car park's breakers*
 * as it is (its site, `offlineA` 6 A), a real central system, the load manager and the
 * charging-profile manager wired as the nodes wire them, on one injected clock, and OCPP 1.6
 * chargers not written here (on @evpower/ocpp-ts, and one written from the specification on plain
 * `ws`, strict about transactions, that keeps profiles by validTo and stack level) whose
 * GetConfiguration lacks ChargeProfileMaxStackLevel. Four cars on the otherwise empty 63 A zone (the grid meter reads
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

/** What the test needs of a charger, whichever library it is built on. */
interface Station extends Listenable {
  readonly identity: string;
  connect(url: string): Promise<void>;
  close(): Promise<unknown>;
  /** A car plugs in and its transaction starts; whether it was Accepted. */
  start(connectorId: number, idTag: string): Promise<boolean>;
  drawA(connectorId: number): readonly (number | null)[];
  /** What the charger lets the connector's car draw now, A per phase. */
  limitA(connectorId: number): number;
  /** The profiles it took (evpower) or holds (plain): connector, purpose, stack level. */
  taken(): { connectorId: number; purpose: string; stackLevel: number }[];
}

const CAR = { maxA: 32, phases: 3 } as const;

function evpower(identity: string, connectors: number): Station {
  const cp = new EvpowerCharger(identity, connectors, { strict: true, withoutMaxStackLevel: true });
  return Object.assign(cp, {
    start: async (connectorId: number, idTag: string) =>
      (await cp.startSession(connectorId, idTag, CAR)) === 'Accepted',
    taken: () =>
      cp.profiles.map((request) => ({
        connectorId: request.connectorId,
        purpose: request.csChargingProfiles.chargingProfilePurpose,
        stackLevel: request.csChargingProfiles.stackLevel,
      })),
  });
}

function plain(identity: string, connectors: number): Station {
  const cp = new PlainCharger(identity, { connectors, strictTransactions: true }).unconfigure(
    'ChargeProfileMaxStackLevel',
  );
  return Object.assign(cp, {
    start: async (connectorId: number, idTag: string) =>
      (await cp.startSession(connectorId, idTag, CAR)).start === 'Accepted',
    limitA: (connectorId: number) => cp.offeredA(connectorId),
    taken: () =>
      cp.store.all().map(({ connectorId, profile }) => ({
        connectorId,
        purpose: profile.chargingProfilePurpose,
        stackLevel: profile.stackLevel,
      })),
  });
}

describe('the shipped car-park example with chargers that lack ChargeProfileMaxStackLevel (issue 45, peers)', () => {
  const { harness, cleanups } = useOcppCleanups();

  /**
   * The example's car park with four cars plugged in, run `seconds` on the injected clock in 1 s
   * steps; each step waits until the profiles went and every charger's report of what its car
   * draws has reached the load manager (events, never a fixed time).
   */
  async function fourCars(
    make: (identity: string, connectors: number) => Station,
    seconds: number,
    profileOptions: ProfileManagerOptions = {},
  ) {
    const cs = await harness().centralSystem();
    const clock = new ManualClock(Date.now());
    const wired = controlLoop(cs, exampleSite(), clock, { clock, ...profileOptions });
    cleanups.push(wired.stop);
    const chargers = new Map<string, Station>();
    for (const [id, connectors] of [
      ['CP-1', 1],
      ['CP-2', 1],
      ['CP-3', 2],
    ] as const)
      chargers.set(id, make(id, connectors));
    cleanups.push(() => Promise.all([...chargers.values()].map((cp) => cp.close())));
    const reported = new Map<string, ConnectorState>();
    cs.on('connector', (state: ConnectorState) =>
      reported.set(`${state.chargePointId}/${state.connectorId}`, state),
    );
    for (const cp of chargers.values()) await cp.connect(`ws://127.0.0.1:${cs.port}${cs.pathPrefix}`);
    const charger = (id: string) => chargers.get(id) as Station;
    const wake: [Listenable, string][] = [
      ...[...chargers.values()].map((cp): [Listenable, string] => [cp, 'change']),
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
      assert.ok(await charger(id).start(connectorId, `TAG-${n}`));
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

  for (const [name, make] of [
    ['@evpower/ocpp-ts', evpower],
    ['plain ws, strict', plain],
  ] as const) {
    it(`${name}, the default strategy: a fallback under limits at stack level 1; each car ≥ 15 A within 60 s`, async function () {
      this.timeout(60_000);
      const { limits, reasons, zone, firstAtS, chargers } = await fourCars(make, 60);
      console.log(`      each car ≥ 15 A after ${firstAtS} s on the injected clock: ${limits.join(', ')} A`);
      assert.ok(
        limits.every((a) => a >= 15),
        `limits ${limits.join(', ')} A: ${reasons.join(' | ')}`,
      );
      // The offline fallback: a TxDefaultProfile on connector 0 at stack level 0, the limits above it.
      for (const cp of chargers) {
        const profiles = cp.taken();
        const onZero = profiles.filter((p) => p.connectorId === 0);
        assert.ok(
          onZero.length > 0 && onZero.every((p) => p.purpose === 'TxDefaultProfile' && p.stackLevel === 0),
          `${cp.identity}: ${JSON.stringify(profiles)}`,
        );
        assert.ok(
          profiles.filter((p) => p.connectorId > 0).every((p) => p.stackLevel === 1),
          JSON.stringify(profiles),
        );
      }
      // If ampflow stops now: four fallbacks of 6 A.
      assert.equal(zone?.offline?.connectorsA, 24, JSON.stringify(zone?.offline));
      assert.equal(zone?.offline?.fits, true);
    });
  }

  it('@evpower/ocpp-ts, a model that takes only stack level 0 (the ABB preset) keeps its last limit: each car ≥ 15 A within 60 s, not held by offlineA', async function () {
    this.timeout(60_000);
    const { limits, reasons, zone, firstAtS, chargers } = await fourCars(evpower, 60, {
      strategy: 'abb-terra-ac',
    });
    console.log(`      each car ≥ 15 A after ${firstAtS} s on the injected clock: ${limits.join(', ')} A`);
    assert.ok(
      limits.every((a) => a >= 15),
      `limits ${limits.join(', ')} A: ${reasons.join(' | ')}`,
    );
    assert.ok(!chargers.some((cp) => cp.taken().some((p) => p.connectorId === 0)), 'no fallback');
    // If ampflow stops now: the four kept limits, which fit the zone.
    assert.ok((zone?.offline?.connectorsA ?? 0) >= 60, JSON.stringify(zone?.offline));
    assert.equal(zone?.offline?.fits, true);
  });
});
