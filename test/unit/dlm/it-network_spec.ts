import assert from 'node:assert/strict';
import { conductorsOf, gridPhasesFor, ONE_PHASE, THREE_PHASES, toGrid } from '../../../lib/dlm/phases';
import type { ConnectorConfig, SiteConfig } from '../../../lib/dlm/site/config';
import { gridPhasesOf } from '../../../lib/dlm/site/model';
import { rotationMismatch } from '../../../lib/dlm/site/rotation-check';
import { parseSite, validateSite } from '../../../lib/dlm/site/validate';
import { harness } from './support';

/**
 * IT networks (3×230 V without a neutral: Belgium, Norway; Bender "Single-phase system (IT
 * ground)", "IT Network"): a single-phase charger is connected between two line conductors and
 * both carry its current. The site's `network` makes a connector's footprint two conductors
 * (lib/dlm/phases.ts), so the allocation, the invariant, the fallbacks and the explanations count
 * per conductor without a rule of their own. The closed loop: closed-loop-it_spec.ts.
 */

function itSite(connectors: ConnectorConfig[], extra: Partial<SiteConfig> = {}): SiteConfig {
  return {
    network: 'IT',
    circuits: [{ id: 'main', limitA: [40, 40, 40], meter: { source: 'grid', location: 'includesChargers' } }],
    connectors,
    unbalanceLimitA: null,
    ...extra,
  };
}

const onePhase = (
  chargePointId: string,
  phaseRotation: ConnectorConfig['phaseRotation'],
): ConnectorConfig => ({
  chargePointId,
  circuit: 'main',
  phases: 1,
  phaseRotation,
  maxA: 32,
});

describe('IT networks (3×230 V): a single-phase connector loads two conductors', () => {
  describe('the setting', () => {
    it('is TN by default, IT when set, and anything else is refused naming the field and the choices', () => {
      assert.equal(parseSite(itSite([], { network: undefined })).network, 'TN');
      assert.equal(parseSite(itSite([])).network, 'IT');
      const { problems } = validateSite(itSite([], { network: 'it' as never }));
      assert.equal(problems.length, 1);
      assert.equal(problems[0]?.field, 'network');
      assert.match(problems[0]?.message ?? '', /"it" is not one of TN, IT .*3×230 V without one/);
    });

    it('turns currents into power at the line voltage / √3 per conductor on IT, and keeps the configured voltage', () => {
      const site = parseSite(itSite([], { voltageV: 230 }));
      assert.ok(Math.abs(site.voltageV - 230 / Math.sqrt(3)) < 1e-9);
      // A three-phase charger at 16 A: √3·230·16 = 6,374 W (not 3·230·16 = 11,040 W).
      assert.equal(Math.round(3 * 16 * site.voltageV), 6374);
      assert.equal(site.config.voltageV, 230);
      assert.equal(parseSite(itSite([], { network: 'TN', voltageV: 230 })).voltageV, 230);
    });
  });

  describe('the footprint', () => {
    it('names the pair by the rotation: RST L1+L2, STR L2+L3, TRS L3+L1, RTS L1+L3', () => {
      const it = (rotation: 'RST' | 'STR' | 'TRS' | 'RTS') => ({
        phases: 1,
        network: 'IT' as const,
        gridPhaseOf: gridPhasesOf(rotation),
      });
      assert.deepEqual(gridPhasesFor(it('RST'), ONE_PHASE), [0, 1]);
      assert.deepEqual(gridPhasesFor(it('STR'), ONE_PHASE), [1, 2]);
      assert.deepEqual(gridPhasesFor(it('TRS'), ONE_PHASE), [0, 2]);
      assert.deepEqual(gridPhasesFor(it('RTS'), ONE_PHASE), [0, 2]);
      assert.deepEqual(conductorsOf(it('STR')), [1, 2]);
      // A three-phase one (or a car on two of its phases) loads all three.
      assert.deepEqual(gridPhasesFor({ ...it('STR'), phases: 3 }, THREE_PHASES), [0, 1, 2]);
      assert.deepEqual(gridPhasesFor({ ...it('STR'), phases: 3 }, [0, 1]), [0, 1, 2]);
      // TN is unchanged: one conductor for one phase.
      assert.deepEqual(gridPhasesFor({ phases: 1, gridPhaseOf: gridPhasesOf('STR') }, ONE_PHASE), [1]);
    });

    it('counts a measured single-phase current on both conductors (Kirchhoff: no neutral to return on)', () => {
      const single = { phases: 1, network: 'IT' as const, gridPhaseOf: gridPhasesOf('STR') };
      assert.deepEqual(toGrid(single, [16, null, null]), [0, 16, 16]);
      const three = { phases: 3, network: 'IT' as const, gridPhaseOf: gridPhasesOf('RST') };
      // A single-phase car on a three-phase charger that reports its L1 only.
      assert.deepEqual(toGrid(three, [16, 0, 0]), [16, 16, 0]);
      // A three-phase car: each conductor its own current.
      assert.deepEqual(toGrid(three, [16, 16, 16]), [16, 16, 16]);
      // Part of the return measured: the rest added to the next conductor.
      assert.deepEqual(toGrid(three, [16, 10, 0]), [16, 16, 0]);
      assert.deepEqual(toGrid({ ...three, network: 'TN' }, [16, 0, 0]), [16, 0, 0]);
    });
  });

  describe('the load manager', () => {
    /**
     * Three single-phase chargers, one per conductor pair, on a 40 A main: counted on one
     * conductor each they would get 32 A each (96 A, 64 A on every conductor); counted on two,
     * each conductor carries two of them: 20 A each.
     */
    it('shares each conductor between the two cars on it, and says which conductors it counts', () => {
      const h = harness(itSite([onePhase('BE-1', 'RST'), onePhase('BE-2', 'STR'), onePhase('BE-3', 'TRS')]));
      h.start();
      h.feed(() => h.meter('grid', [0, 0, 0]));
      for (const key of ['BE-1/1', 'BE-2/1', 'BE-3/1']) h.plugIn(key);
      h.run(200_000);
      const limits = ['BE-1/1', 'BE-2/1', 'BE-3/1'].map((key) => h.limit(key) ?? 0);
      for (const limit of limits) assert.ok(limit > 0 && limit <= 20 + 1e-9, `limits ${limits}`);
      // Per conductor: L1 = BE-1 + BE-3, L2 = BE-1 + BE-2, L3 = BE-2 + BE-3.
      const [a = 0, b = 0, c = 0] = limits;
      for (const load of [a + c, a + b, b + c])
        assert.ok(load <= 40 + 1e-9, `conductors ${[a + c, a + b, b + c]}`);
      const summary = h.manager.summary();
      const be2 = summary.connectors.find((k) => k.chargePointId === 'BE-2');
      assert.deepEqual(be2?.gridPhases, [2, 3]);
      assert.deepEqual(be2?.countedA, [0, be2?.limitA, be2?.limitA]);
    });

    it('Check the site counts the single-phase chargers’ offline limits on both of their conductors', () => {
      const connectors = [onePhase('BE-1', 'RST'), onePhase('BE-2', 'STR')].map((c) => ({
        ...c,
        offlineA: 16,
      }));
      // TN: 16 A on L1 and 16 A on L2 fit 20 A; IT: L2 carries both, 32 A.
      const tn = validateSite(
        itSite(connectors, { network: 'TN', circuits: [{ id: 'main', limitA: [20, 20, 20] }] }),
      );
      assert.deepEqual(
        tn.warnings.filter((w) => /offlineA/.test(w.field)),
        [],
      );
      const it = validateSite(itSite(connectors, { circuits: [{ id: 'main', limitA: [20, 20, 20] }] }));
      const absent = it.warnings.filter((w) => /offlineA/.test(w.field));
      assert.equal(absent.length, 1, JSON.stringify(it.warnings));
      assert.match(absent[0]?.message ?? '', /32 A on L2/);
    });

    it('counts the chargers’ offline limits on both conductors at runtime, and chooses fallbacks that fit them', () => {
      // Two RST chargers (L1+L2) and one STR (L2+L3), offlineA 8 A, on 21 A per conductor: on one
      // conductor each 16 A on L1 would fit; on IT L2 carries all three, 24 A.
      const connectors = [onePhase('BE-1', 'RST'), onePhase('BE-2', 'RST'), onePhase('BE-3', 'STR')].map(
        (c) => ({
          ...c,
          offlineA: 8,
        }),
      );
      const fits = (network: 'TN' | 'IT') => {
        const h = harness(
          itSite(connectors, {
            network,
            circuits: [
              { id: 'main', limitA: [21, 21, 21], meter: { source: 'grid', location: 'includesChargers' } },
            ],
          }),
        );
        h.start();
        h.feed(() => h.meter('grid', [0, 0, 0]));
        for (const key of ['BE-1/1', 'BE-2/1', 'BE-3/1']) h.state(key, { status: 'Available' });
        h.run(10_000);
        const main = h.manager.summary().circuits.find((c) => c.id === 'main');
        const chosen = ['BE-1/1', 'BE-2/1', 'BE-3/1'].map(
          (key) =>
            [...h.sent].reverse().find((p) => `${p.chargePointId}/${p.connectorId}` === key)?.fallbackA,
        );
        h.stop();
        return { fits: main?.offline?.fits, chosen };
      };
      assert.equal(fits('TN').fits, true);
      const it = fits('IT');
      assert.equal(it.fits, false);
      // 6 A each: 18 A on L2, within the 21 A less the learned peak's margin.
      assert.deepEqual(it.chosen, [6, 6, 6]);
    });

    it('starts a single-phase pv car on the power of its two conductors, not of one', () => {
      // 6 A between two conductors is 230 V × 6 A = 1380 W; counted 2 × 132.8 V × 6 A = 1593 W (the
      // safe side); on one conductor it would be 797 W and the car would start on 1200 W of surplus.
      const h = harness({
        network: 'IT',
        circuits: [{ id: 'home', limitA: 35, meter: { source: 'grid', location: 'includesChargers' } }],
        connectors: [{ ...onePhase('WB-1', 'RST'), circuit: 'home', mode: 'pv' }],
      });
      const world = { pvW: 1600 };
      h.feed(() => {
        const carA = h.limit('WB-1/1') ?? 0;
        if (carA > 0) h.draw('WB-1/1', [carA, 0, 0]);
        const gridW = 300 + carA * 230 - world.pvW;
        const perConductor = gridW / (3 * (230 / Math.sqrt(3)));
        h.meter('grid', [perConductor + carA, perConductor + carA, perConductor], { totalPowerW: gridW });
      });
      h.start();
      h.plugIn('WB-1/1');
      h.run(180_000);
      assert.equal(h.limit('WB-1/1') ?? 0, 0);
      assert.match(h.setPoint('WB-1/1')?.reason ?? '', /waiting for surplus \(1200 W of 1593 W\)/);
      world.pvW = 2100;
      h.run(120_000);
      assert.ok((h.limit('WB-1/1') ?? 0) >= 6, h.setPoint('WB-1/1')?.reason);
      h.stop();
    });

    it('compares both conductors of a single-phase IT connector with the charger’s reported rotation', () => {
      const connector = { key: 'BE-1/1', chargePointId: 'BE-1', connectorId: 1, phases: 1 as const };
      const site = { ...connector, phaseRotation: 'RST' as const };
      // TN: only its L1 matters, RTS agrees with RST; IT: its L2 is another conductor.
      assert.equal(rotationMismatch(site, '0.RTS'), undefined);
      assert.match(
        rotationMismatch({ ...site, network: 'IT' }, '0.RTS') ?? '',
        /reports RTS while the site says RST/,
      );
      assert.equal(rotationMismatch({ ...site, network: 'IT' }, '0.RST'), undefined);
    });
  });
});
