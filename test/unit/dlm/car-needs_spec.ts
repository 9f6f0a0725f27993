import assert from 'node:assert/strict';
import type { CarNeeds, PerPhase } from '../../../lib/contracts';
import type { ConnectorConfig, SiteConfig } from '../../../lib/dlm/site';
import { harness } from './support';

/**
 * What a car's ISO 15118 needs (OCPP 2.0.1 NotifyEVChargingNeeds, `ConnectorState.carNeeds`) do in
 * the load manager: its minimum replaces the connector's (never below it), and a pv car that asked
 * for an energy by a departure time gets from the grid what the surplus cannot give to make it.
 */
describe('LoadManager with the car needs of ISO 15118', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  const HOUR = 3_600_000;

  /**
   * A house behind one breaker of `limitA` per phase with a grid meter that sees everything (import
   * positive), a PV plant, and wallboxes whose three-phase cars take what they are offered; each
   * charger reports its car's current and its energy register every second.
   */
  function house(limitA: number, connectors: ConnectorConfig[], control: SiteConfig['control'] = {}) {
    h = harness({
      circuits: [{ id: 'home', limitA, meter: { source: 'grid', location: 'includesChargers' } }],
      connectors,
      pv: {},
      control,
    });
    const world = { pvW: 0, houseW: 300, energyWh: new Map<string, number>() };
    h.feed(() => {
      let carsW = 0;
      for (const connector of connectors) {
        const key = `${connector.chargePointId}/1`;
        if (!world.energyWh.has(key)) continue;
        const drawn = h.limit(key) ?? 0;
        const energyWh = (world.energyWh.get(key) ?? 0) + (drawn * 3 * 230) / 3600;
        world.energyWh.set(key, energyWh);
        h.state(key, {
          status: drawn > 0 ? 'Charging' : 'SuspendedEVSE',
          currentA: [drawn, drawn, drawn] as PerPhase,
          energyWh,
        });
        carsW += drawn * 3 * 230;
      }
      const gridW = world.houseW + carsW - world.pvW;
      h.meter('grid', [gridW / 690, gridW / 690, gridW / 690], { totalPowerW: gridW });
    });
    h.start();
    /** A car plugs in and says what it needs (departure `inMs` from now). */
    const arrive = (key: string, needs: Omit<CarNeeds, 'at'> = {}, inMs?: number) => {
      h.plugIn(key);
      world.energyWh.set(key, 0);
      const departureTime = inMs === undefined ? undefined : new Date(h.clock.now() + inMs).toISOString();
      h.state(key, { carNeeds: { at: h.iso(), ...(departureTime ? { departureTime } : {}), ...needs } });
    };
    return { world, arrive };
  }

  const wallbox = (id: string, extra: Partial<ConnectorConfig> = {}): ConnectorConfig => ({
    chargePointId: id,
    circuit: 'home',
    maxA: 16,
    mode: 'pv',
    ...extra,
  });

  /** `HH:MM` of a time in the machine's local time, as the reasons say it. */
  function clockTime(ms: number): string {
    const at = new Date(ms);
    return `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
  }

  const reason = (key: string) => h.setPoint(key)?.reason ?? '';

  describe('departure (PV surplus mode)', () => {
    it('gives a pv car that would miss its target what it needs from the grid, the surplus first', () => {
      const { world, arrive } = house(35, [wallbox('WB-1')]);
      const departureMs = h.clock.now() + 2 * HOUR;
      arrive('WB-1/1', { energyWh: 20_000, phases: 3 }, 2 * HOUR);
      h.run(120_000);
      // 20 kWh in 2 h on three phases at 230 V: 14.5 A (20 000 Wh ÷ 2 h ÷ 690 W/A, rounded up);
      // a plain pv car without surplus would wait for the sun at 0 A.
      const limit = h.limit('WB-1/1') ?? 0;
      assert.ok(limit >= 14.5 && limit <= 15, `${limit} A`);
      assert.equal(
        reason('WB-1/1'),
        `no PV surplus: ${limit} A from the grid to have 20 kWh by ${clockTime(departureMs)}`,
      );
      // Sun: 4000 − 300 (house) − 100 (residual) = 3600 W of surplus, 5.2 A on three phases; the
      // grid gives the rest, not more.
      world.pvW = 4000;
      h.run(60_000);
      const withSun = h.limit('WB-1/1') ?? 0;
      assert.ok(withSun >= 14.5 && withSun <= 15, `${withSun} A`);
      assert.match(
        reason('WB-1/1'),
        new RegExp(`^PV surplus plus 9\\.\\d A from the grid to have 20 kWh by ${clockTime(departureMs)}$`),
      );
      // Much sun: the surplus alone gives more than the plan needs, and all of it goes to the car.
      world.pvW = 12_000;
      h.run(120_000);
      assert.equal(h.limit('WB-1/1'), 16);
      assert.match(reason('WB-1/1'), /^PV surplus, first to the car that wants 20 kWh by \d\d:\d\d$/);
    });

    it('gives a car ahead of its plan nothing from the grid, and ends the top-up once the energy is in', () => {
      const { world, arrive } = house(35, [wallbox('WB-1'), wallbox('WB-2')]);
      // 3 kWh in 6 h needs 0.7 A: it can still make it at its minimum later, PV alone decides.
      arrive('WB-1/1', { energyWh: 3_000 }, 6 * HOUR);
      // Behind: 20 kWh in 2 h.
      arrive('WB-2/1', { energyWh: 20_000 }, 2 * HOUR);
      h.run(180_000);
      assert.equal(h.limit('WB-1/1'), 0);
      assert.match(reason('WB-1/1'), /^pv: waiting for surplus/);
      assert.ok((h.limit('WB-2/1') ?? 0) >= 14.5);
      // The car's register shows 19.5 kWh taken since it asked: 0.5 kWh in the 2 h left is 0.4 A,
      // below its minimum: a plain pv car again, which without surplus stops (after its dip budget).
      world.energyWh.set('WB-2/1', 19_500);
      h.run(5_000);
      assert.ok((h.limit('WB-2/1') ?? 0) <= 6, 'down to its minimum at once');
      h.run(180_000);
      assert.equal(h.limit('WB-2/1'), 0);
      assert.match(reason('WB-2/1'), /^pv: waiting for surplus/);
    });

    it('ends the top-up when the departure time has come', () => {
      const { arrive } = house(35, [wallbox('WB-1')]);
      const departureMs = h.clock.now() + 10 * 60_000;
      // 20 kWh in 10 min: far more than its 16 A; it gets its maximum and the reason says so.
      arrive('WB-1/1', { energyWh: 20_000 }, 10 * 60_000);
      h.run(5 * 60_000);
      assert.equal(h.limit('WB-1/1'), 16);
      assert.match(
        reason('WB-1/1'),
        new RegExp(
          `^no PV surplus: 16 A from the grid to have 20 kWh by ${clockTime(departureMs)} \\(needs [\\d.]+ A, but its maximum is 16 A\\)$`,
        ),
      );
      h.run(5 * 60_000);
      // Departure time: a plain pv car without surplus, down to its minimum, then off.
      h.run(5_000);
      assert.ok((h.limit('WB-1/1') ?? 0) <= 6);
      h.run(180_000);
      assert.equal(h.limit('WB-1/1'), 0);
      assert.doesNotMatch(reason('WB-1/1'), /grid/);
    });

    it('keeps the breaker: two cars with a plan share a small one and never exceed it', () => {
      const { arrive } = house(20, [wallbox('WB-1'), wallbox('WB-2')]);
      let worstA = 0;
      h.feed(() => {
        worstA = Math.max(worstA, (h.limit('WB-1/1') ?? 0) + (h.limit('WB-2/1') ?? 0) + 300 / 690);
      });
      arrive('WB-1/1', { energyWh: 20_000 }, 2 * HOUR);
      arrive('WB-2/1', { energyWh: 20_000 }, 2 * HOUR);
      h.run(600_000);
      // Each needs 14.5 A; 20 A less the house's 0.43 A leaves 9.7 A each.
      assert.ok(worstA <= 20 + 1e-9, `${worstA} A on a 20 A breaker`);
      for (const key of ['WB-1/1', 'WB-2/1']) {
        const limit = h.limit(key) ?? 0;
        assert.ok(limit > 9 && limit < 10, `${key}: ${limit} A`);
        assert.match(
          reason(key),
          /^limited: home L\d is full \(needs 1\d(\.\d)? A from PV and grid to have 20 kWh by \d\d:\d\d\)$/,
        );
      }
    });

    it('gives the surplus to the car with a plan first; another pv car charges on what it leaves', () => {
      const { world, arrive } = house(35, [wallbox('WB-1'), wallbox('WB-2')]);
      // 8000 − 300 − 100 = 7600 W: 11 A on three phases, less than the 14.5 A WB-2 needs.
      world.pvW = 8000;
      arrive('WB-1/1');
      h.run(180_000);
      assert.equal(h.limit('WB-1/1'), 11, 'a plain pv car on the whole surplus');
      arrive('WB-2/1', { energyWh: 20_000 }, 2 * HOUR);
      h.run(400_000);
      assert.ok((h.limit('WB-2/1') ?? 0) >= 14.5);
      assert.match(
        reason('WB-2/1'),
        /^PV surplus plus [34]\.\d A from the grid to have 20 kWh by \d\d:\d\d$/,
      );
      // WB-1 took only what WB-2 leaves (nothing): it gave way after its dip budget.
      assert.equal(h.limit('WB-1/1'), 0);
      assert.match(reason('WB-1/1'), /^pv: /);
      // WB-2 has its energy: a plain pv car again. WB-1, which a dip stopped, starts again on what
      // WB-2 cannot take, as any pv car (20000 − 400 W is 19600 W, 8560 W beyond WB-2's 16 A), and
      // then the two share the surplus: 19600 W ÷ 1380 W/A = 14.2 A each.
      world.energyWh.set('WB-2/1', 20_000);
      world.pvW = 20_000;
      h.run(600_000);
      assert.equal(h.limit('WB-1/1'), 14.2);
      assert.equal(h.limit('WB-2/1'), 14.2);
      assert.equal(reason('WB-2/1'), 'limited: PV surplus');
    });

    it('tops up a minpv car above its minimum as well', () => {
      const { arrive } = house(35, [wallbox('WB-1', { mode: 'minpv' })]);
      arrive('WB-1/1', { energyWh: 20_000 }, 2 * HOUR);
      h.run(180_000);
      assert.ok((h.limit('WB-1/1') ?? 0) >= 14.5);
    });

    it('leaves a fast car as it is', () => {
      const { arrive } = house(35, [wallbox('WB-1', { mode: 'fast' })]);
      arrive('WB-1/1', { energyWh: 1_000 }, 6 * HOUR);
      h.run(180_000);
      assert.equal(h.limit('WB-1/1'), 16);
      assert.equal(reason('WB-1/1'), 'maximum 16 A');
    });
  });

  describe("the car's minimum", () => {
    it('pauses a car that takes no less than 10 A where 8.5 A is left, and says why', () => {
      const { arrive } = house(9, [wallbox('WB-1', { mode: 'fast' }), wallbox('WB-2', { mode: 'fast' })]);
      arrive('WB-1/1', { minA: 10, maxA: 16 });
      arrive('WB-2/1');
      h.run(180_000);
      // 9 A less the house's 0.43 A: one car fits. Without the car's minimum WB-1 (first plugged in)
      // would get 8.5 A and sit in SuspendedEV.
      assert.equal(h.limit('WB-1/1'), 0);
      assert.match(reason('WB-1/1'), /^paused: .* for the minimum 10 A \(the car's, ISO 15118\)$/);
      assert.equal(h.limit('WB-2/1'), 8.5);
    });

    it('starts a car at its own minimum, never below the connector’s', () => {
      // A soft start: where the headroom is measured a car starts at its share instead.
      const { arrive } = house(
        35,
        [wallbox('WB-1', { mode: 'fast' }), wallbox('WB-2', { mode: 'fast', minA: 12 })],
        { softStart: true },
      );
      arrive('WB-1/1', { minA: 10 });
      arrive('WB-2/1', { minA: 10 });
      h.run(10_000);
      const firstOf = (key: string) => h.sentTo(key).find((s) => s.limitA > 0)?.limitA;
      assert.equal(firstOf('WB-1/1'), 10, 'the car’s 10 A, not the default 6 A');
      assert.equal(firstOf('WB-2/1'), 12, 'the connector’s 12 A, above the car’s');
      assert.match(reason('WB-1/1'), /the car's minimum 10 A \(ISO 15118\)$/);
    });

    it('does not start a pv car on a surplus below the minimum it asked for', () => {
      const { world, arrive } = house(35, [wallbox('WB-1')]);
      // 5500 − 300 − 100 = 5100 W: 7.4 A on three phases, enough for 6 A, not for 10 A.
      world.pvW = 5500;
      arrive('WB-1/1', { minA: 10 });
      h.run(300_000);
      assert.equal(h.limit('WB-1/1'), 0);
      assert.match(
        reason('WB-1/1'),
        /^pv: waiting for surplus \(\d+ W of 6900 W\); the car takes no less than 10 A \(ISO 15118\)$/,
      );
      world.pvW = 8000;
      h.run(120_000);
      assert.ok((h.limit('WB-1/1') ?? 0) >= 10);
    });
  });

  describe('needs that are not what they say', () => {
    // What is wrong is left out, the rest is taken: without an energy or a departure there is no
    // plan (a plain pv car, waiting for surplus); with a wrong minimum or phases, the plan is made
    // with the connector's minimum and phases (14.5 A for 20 kWh in 2 h).
    const bad: [string, Record<string, unknown>, 'no plan' | 'plan', RegExp | undefined][] = [
      [
        'a departure in the past',
        { energyWh: 20_000, departureTime: '2026-06-01T07:00:00Z' },
        'no plan',
        undefined,
      ],
      ['a negative energy', { energyWh: -5_000 }, 'no plan', /carNeeds\.energyWh: -5000 Wh is no energy/],
      [
        'an energy that is no number',
        { energyWh: Number.NaN },
        'no plan',
        /carNeeds\.energyWh: NaN is not a number/,
      ],
      [
        'a departure that is no date-time',
        { energyWh: 20_000, departureTime: 'soon' },
        'no plan',
        /departureTime: "soon"/,
      ],
      ['a minimum that is no number', { energyWh: 20_000, minA: Number.NaN }, 'plan', /carNeeds\.minA: NaN/],
      [
        'a minimum above the maximum',
        { energyWh: 20_000, minA: 20, maxA: 10 },
        'plan',
        /minA: 20 A is above the car's maximum 10 A/,
      ],
      ['five phases', { energyWh: 20_000, phases: 5 }, 'plan', /carNeeds\.phases: 5 is not 1, 2 or 3/],
    ];
    for (const [what, needs, outcome, warning] of bad) {
      it(`ignores ${what}`, () => {
        const { arrive } = house(35, [wallbox('WB-1')]);
        arrive('WB-1/1');
        const departureTime = new Date(h.clock.now() + 2 * HOUR).toISOString();
        h.state('WB-1/1', { carNeeds: { at: h.iso(), departureTime, ...needs } as CarNeeds });
        h.run(180_000);
        if (outcome === 'no plan') {
          // A plain pv car without surplus, with the connector's minimum.
          assert.equal(h.limit('WB-1/1'), 0);
          assert.match(reason('WB-1/1'), /^pv: waiting for surplus \(\d+ W of 4140 W\)$/);
        } else {
          const limit = h.limit('WB-1/1') ?? 0;
          const capA = (needs.maxA as number | undefined) ?? 16;
          assert.ok(limit >= Math.min(capA, 14.5) && limit <= Math.min(capA, 15), `${limit} A`);
          assert.doesNotMatch(reason('WB-1/1'), /minimum/);
        }
        if (warning)
          assert.ok(
            h.logged.some((line) => warning.test(line)),
            h.logged.join('\n'),
          );
      });
    }

    it('takes needs that are no object as none', () => {
      const { arrive } = house(35, [wallbox('WB-1')]);
      arrive('WB-1/1');
      h.state('WB-1/1', { carNeeds: 'soon' as unknown as CarNeeds });
      h.state('WB-1/1', { carNeeds: { energyWh: 20_000 } as unknown as CarNeeds });
      h.run(180_000);
      assert.equal(h.limit('WB-1/1'), 0);
    });
  });
});
