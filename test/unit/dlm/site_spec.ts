import assert from 'node:assert/strict';
import { ConfigError } from '../../../lib/config-error';
import {
  gridPhasesOf,
  PHASE_ROTATIONS,
  parseSite,
  type SiteConfig,
  SiteConfigError,
  validateSite,
} from '../../../lib/dlm/site';

const valid = (): SiteConfig => ({
  circuits: [
    { id: 'main', limitA: 63, meter: { source: 'grid', location: 'includesChargers' } },
    { id: 'sub', parent: 'main', limitA: [32, 32, 25] },
  ],
  connectors: [
    { chargePointId: 'CP-1', circuit: 'sub' },
    {
      chargePointId: 'CP-2',
      connectorId: 2,
      circuit: 'sub',
      phaseRotation: 'STR',
      phases: 1,
      minA: 8,
      maxA: 16,
    },
  ],
});

describe('site model', () => {
  it('maps every phase rotation as OCPP ConnectorPhaseRotation does (R, S, T = grid L1, L2, L3)', () => {
    const gridPhases = (r: (typeof PHASE_ROTATIONS)[number]) =>
      gridPhasesOf(r)
        .map((p) => `L${p + 1}`)
        .join(' ');
    assert.deepEqual(Object.fromEntries(PHASE_ROTATIONS.map((r) => [r, gridPhases(r)])), {
      RST: 'L1 L2 L3',
      STR: 'L2 L3 L1',
      TRS: 'L3 L1 L2',
      RTS: 'L1 L3 L2',
      SRT: 'L2 L1 L3',
      TSR: 'L3 L2 L1',
    });
  });

  it('fills in the defaults and resolves the tree', () => {
    const site = parseSite(valid());
    assert.equal(site.voltageV, 230);
    assert.equal(site.shedding, 'firstStarted');
    assert.deepEqual(site.rootIndexes, [0]);
    const [main, sub] = site.circuits;
    assert.deepEqual(main?.limitA, [63, 63, 63]);
    assert.equal(main?.meter?.staleAfterMs, 30_000);
    assert.deepEqual(main?.fallback, { otherLoadA: undefined, connectorLimitA: 6 });
    assert.equal(main?.unbalanceLimitA, 20, 'the root gets the site unbalance limit');
    assert.equal(sub?.unbalanceLimitA, undefined);
    assert.deepEqual(sub?.connectorIndexes, [0, 1]);
    const [cp1, cp2] = site.connectors;
    assert.equal(cp1?.key, 'CP-1/1');
    assert.deepEqual(
      [cp1?.minA, cp1?.maxA, cp1?.phases, cp1?.phaseRotation, cp1?.offlineA],
      [6, 32, 3, 'RST', 32],
    );
    assert.deepEqual(cp1?.path, [1, 0]);
    assert.equal(cp2?.key, 'CP-2/2');
    assert.deepEqual(cp2?.gridPhaseOf, [1, 2, 0]);
    assert.equal(cp2?.offlineA, 16);
  });

  it('refuses a site and lists every problem, each naming the circuit or connector and the field', () => {
    const config = {
      circuits: [
        { id: 'main', limitA: [63, -5, 63], meter: { source: 'grid' } },
        { id: 'main', limitA: 10 },
        { id: 'a', parent: 'b', limitA: 10 },
        { id: 'b', parent: 'a', limitA: 10 },
        { id: 'c', parent: 'nowhere', limitA: 'lots' },
      ],
      connectors: [
        { chargePointId: 'CP-1', circuit: 'missing' },
        { chargePointId: 'CP-2', circuit: 'main', minA: 16, maxA: 10 },
        { chargePointId: 'CP-3', circuit: 'main', phaseRotation: 'XYZ' },
        { chargePointId: 'CP-3', circuit: 'main' },
        { chargePointId: 'CP-4', circuit: 'main', priority: '=connector.(' },
      ],
      shedding: 'random',
    };
    const result = validateSite(config);
    assert.equal(result.site, undefined);
    const messages = result.problems.map((p) => `${p.field}: ${p.message}`);
    const expect = (pattern: RegExp) =>
      assert.ok(
        messages.some((m) => pattern.test(m)),
        `no problem matching ${pattern} in\n${messages.join('\n')}`,
      );
    expect(/^circuit "main" limitA: L2 -5 A is negative/);
    expect(/^circuit "main" meter.location: say where the meter is/);
    expect(/^circuit "main" id: is used by more than one circuit/);
    expect(/^circuit "[ab]" parent: the circuits form a cycle/);
    expect(/^circuit "c" parent: no circuit has the id "nowhere"/);
    expect(/^circuit "c" limitA: L1 "lots" is not a number/);
    expect(/^connector "CP-1\/1" circuit: no circuit has the id "missing"/);
    expect(/^connector "CP-2\/1" minA: 16 A is above maxA 10 A/);
    expect(/^connector "CP-3\/1" phaseRotation: "XYZ" is not one of RST, STR/);
    expect(/^connector "CP-3\/1": is listed more than once/);
    expect(/^connector "CP-4\/1" priority: the JSONata expression does not parse/);
    expect(/^shedding: "random" is not one of firstStarted, mostEnergyFirst/);
    assert.throws(
      () => parseSite(config),
      (err: unknown) =>
        err instanceof SiteConfigError &&
        err instanceof ConfigError &&
        err.problems.length === result.problems.length,
    );
  });

  it('accepts but reports a child limit above its parent and a per-connector fallback the breaker cannot carry', () => {
    const result = validateSite({
      circuits: [
        { id: 'main', limitA: 40 },
        {
          id: 'zone',
          parent: 'main',
          limitA: [63, 32, 32],
          meter: { source: 'zone-meter', location: 'otherLoadsOnly' },
          fallback: { connectorLimitA: 6 },
        },
      ],
      connectors: Array.from({ length: 6 }, (_, i) => ({ chargePointId: `CP-${i}`, circuit: 'zone' })),
    });
    assert.ok(result.site);
    assert.deepEqual(
      result.warnings.map((w) => w.field),
      [
        'circuit "zone" limitA',
        'circuit "zone" fallback.connectorLimitA',
        'circuit "zone" fallback.connectorLimitA',
        // No meter measures what else "main" feeds (the zone's meter counts only the zone's loads),
        // and no estimate of it is set.
        'circuit "main" fallback.otherLoadA',
        // Six connectors at their own offline limit (offlineA: their 32 A maximum) if ampflow stops (issue 36).
        'circuit "main" connectors offlineA',
        'circuit "zone" connectors offlineA',
      ],
    );
    assert.match(result.warnings[0]?.message ?? '', /L1 63 A above its parent "main" \(40\/40\/40 A\)/);
    assert.match(
      result.warnings[1]?.message ?? '',
      /6 A for each of its connectors is 36 A on L2, above the 32 A available/,
    );
  });

  it('warns where no meter measures what a circuit with chargers feeds, naming the circuit and the settings that make it safe', () => {
    const unmetered = validateSite({
      circuits: [
        { id: 'garage', limitA: 32 },
        { id: 'main', limitA: 63, meter: { source: 'grid', location: 'includesChargers' } },
        // Below a metered circuit: the meter above sees what it feeds.
        { id: 'dual', parent: 'main', limitA: 32 },
        // Its other loads estimated: counted at 10 A always (evidence/circuit-view.ts).
        { id: 'shed', limitA: 25, fallback: { otherLoadA: 10 } },
        // Below an estimated circuit: the estimate above counts what it feeds.
        { id: 'bay', parent: 'shed', limitA: 16 },
      ],
      connectors: [
        { chargePointId: 'CP-1', circuit: 'garage' },
        { chargePointId: 'CP-2', circuit: 'garage' },
        { chargePointId: 'CP-3', circuit: 'dual' },
        { chargePointId: 'CP-4', circuit: 'shed' },
        { chargePointId: 'CP-5', circuit: 'bay' },
      ],
    });
    assert.ok(unmetered.site);
    const about = unmetered.warnings.filter((w) => w.field.endsWith(' fallback.otherLoadA'));
    assert.deepEqual(
      about.map((w) => w.field),
      ['circuit "garage" fallback.otherLoadA'],
    );
    assert.match(about[0]?.message ?? '', /no meter measures what else it feeds beside its 2 chargers/);
    assert.match(
      about[0]?.message ?? '',
      /counted as 0 A, .* set fallback\.otherLoadA .* to the most those loads draw, or give it \(or a circuit above it\) a meter$/,
    );
  });

  it("warns about the meterless home whose few amps of headroom are no estimate of the house's own load (issue 48)", () => {
    // The tariff example as it was: a 25 A house connection, 1 A kept free, no meter, no estimate.
    const home = validateSite({
      circuits: [{ id: 'house', limitA: 25, headroomA: 1 }],
      connectors: [{ chargePointId: 'WALLBOX-T', circuit: 'house', minA: 6, maxA: 16, offlineA: 6 }],
    });
    assert.ok(home.site);
    assert.deepEqual(
      home.warnings.map((w) => w.field),
      ['circuit "house" fallback.otherLoadA'],
    );
    assert.match(home.warnings[0]?.message ?? '', /counted as 0 A \(headroomA keeps only 1 A free\)/);
    // With the house's load estimated, nothing to warn about; the load manager counts it.
    const estimated = validateSite({
      circuits: [{ id: 'house', limitA: 25, headroomA: 1, fallback: { otherLoadA: 10 } }],
      connectors: [{ chargePointId: 'WALLBOX-T', circuit: 'house', minA: 6, maxA: 16, offlineA: 6 }],
    });
    assert.deepEqual(estimated.warnings, []);
  });

  it('reads priorities and modes written as JSONata expressions (a leading =)', () => {
    const site = parseSite({
      circuits: [{ id: 'main', limitA: 32 }],
      connectors: [
        {
          chargePointId: 'CP-1',
          circuit: 'main',
          priority: "= idTag = 'VIP' ? 10 : 0",
          mode: '=energyWh > 10000 ? "pv" : "fast"',
        },
      ],
      defaultMode: 'minpv',
    });
    assert.deepEqual(site.connectors[0]?.priority, { expression: "idTag = 'VIP' ? 10 : 0" });
    assert.deepEqual(site.connectors[0]?.mode, { expression: 'energyWh > 10000 ? "pv" : "fast"' });
    assert.equal(site.defaultMode, 'minpv');
  });

  it('takes the only root with a meter as the grid meter for PV, and refuses a pv.gridCircuit without one', () => {
    assert.equal(parseSite(valid()).pv.gridCircuitIndex, 0);
    const result = validateSite({ ...valid(), pv: { gridCircuit: 'sub' } });
    assert.deepEqual(
      result.problems.map((p) => p.field),
      ['pv.gridCircuit'],
    );
  });

  it('refuses unknown control settings instead of ignoring a typo', () => {
    const result = validateSite({ ...valid(), control: { minUpdateIntervallMs: 10 } });
    assert.match(result.problems[0]?.message ?? '', /unknown setting/);
  });

  it('reads meter.noGenerationBelow (default false: a total power alone is not used per phase)', () => {
    assert.equal(parseSite(valid()).circuits[0]?.meter?.noGenerationBelow, false);
    const config = valid();
    const main = config.circuits[0];
    if (main?.meter) main.meter.noGenerationBelow = true;
    assert.equal(parseSite(config).circuits[0]?.meter?.noGenerationBelow, true);
    const bad = validateSite({
      ...valid(),
      circuits: [
        {
          id: 'main',
          limitA: 63,
          meter: { source: 'grid', location: 'includesChargers', noGenerationBelow: 'yes' },
        },
      ],
      connectors: [],
    });
    assert.deepEqual(
      bad.problems.map((p) => [p.field, p.message]),
      [['circuit "main" meter.noGenerationBelow', '"yes" is not true or false']],
    );
  });
});
