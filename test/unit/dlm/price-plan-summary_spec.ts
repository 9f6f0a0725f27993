import assert from 'node:assert/strict';
import type { PerPhase } from '../../../lib/contracts';
import { planDeparture } from '../../../lib/dlm/modes/departure-planner';
import { CURVE_MS, planFigures, priceCurve } from '../../../lib/dlm/modes/plan-figures';
import type { ConnectorConfig } from '../../../lib/dlm/site';
import { harness } from './support';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** What a dashboard reads of a plan: the summary's figures and price curve (modes/plan-figures.ts). */
describe('the summary gives the plans and the price curve in figures', () => {
  it('puts a plan in figures and marks its slots on the curve of the next 24 h', () => {
    const now = Date.UTC(2026, 5, 1, 18);
    // The hour before now (gone), then 0.30, 0.10, 0.20 and a slot beyond the 24 h.
    const slots = [
      { startMs: now - HOUR, endMs: now, value: 0.4 },
      ...[0.3, 0.1, 0.2].map((value, i) => ({ startMs: now + i * HOUR, endMs: now + (i + 1) * HOUR, value })),
      { startMs: now + CURVE_MS, endMs: now + CURVE_MS + HOUR, value: 0.1 },
    ];
    const plan = planDeparture({
      now,
      departureMs: now + 3 * HOUR,
      remainingWh: 5000,
      maxW: 11_040,
      minW: 4140,
      prices: slots,
    });
    const figures = planFigures(plan, now + 3 * HOUR);
    assert.deepEqual(figures, {
      energyWh: 5000,
      pvWh: 0,
      departure: iso(now + 3 * HOUR),
      chargingNow: false,
      priceNow: 0.3,
      next: { start: iso(now + HOUR), price: 0.1 },
      slots: [{ start: iso(now + HOUR), end: iso(now + 2 * HOUR), price: 0.1, gridWh: 5000 }],
    });
    const curve = priceCurve(slots, now, new Map([['WB-1/1', figures]]));
    assert.deepEqual(curve, [
      { start: iso(now), end: iso(now + HOUR), price: 0.3 },
      { start: iso(now + HOUR), end: iso(now + 2 * HOUR), price: 0.1, plannedFor: ['WB-1/1'] },
      { start: iso(now + 2 * HOUR), end: iso(now + 3 * HOUR), price: 0.2 },
    ]);
  });

  describe('in the load manager', () => {
    let h: ReturnType<typeof harness>;
    afterEach(() => h?.stop());

    function house(connectors: ConnectorConfig[]) {
      h = harness({
        circuits: [{ id: 'home', limitA: 16, meter: { source: 'grid', location: 'includesChargers' } }],
        connectors,
        pv: {},
      });
      h.feed(() => {
        const drawn = h.limit('WB-1/1') ?? 0;
        h.state('WB-1/1', {
          status: drawn > 0 ? 'Charging' : 'SuspendedEVSE',
          currentA: [drawn, drawn, drawn] as PerPhase,
          energyWh: 0,
        });
        const gridW = 300 + drawn * 690;
        h.meter('grid', [gridW / 690, gridW / 690, gridW / 690], { totalPowerW: gridW });
      });
      h.start();
      h.plugIn('WB-1/1');
    }
    const prices = (t: number) => ({
      type: 'prices' as const,
      prices: {
        currency: 'EUR',
        prices: [0.3, 0.1, 0.2].map((price, i) => ({ start: t + i * HOUR, end: t + (i + 1) * HOUR, price })),
      },
    });

    it("gives a planned connector's plan in figures and marks its slot on the price curve", () => {
      house([{ chargePointId: 'WB-1', circuit: 'home', maxA: 16, mode: 'price' }]);
      const t = h.clock.now();
      h.manager.command(prices(t));
      h.manager.command({ type: 'plan', chargePointId: 'WB-1', energyKWh: 8, departure: iso(t + 3 * HOUR) });
      h.run(60_000);
      const summary = h.manager.summary();
      const connector = summary.connectors[0];
      assert.match(connector?.plan ?? '', /^next: .* 8\.0 kWh planned/);
      assert.equal(connector?.planned?.energyWh, 8000);
      assert.equal(connector?.planned?.departure, iso(t + 3 * HOUR));
      assert.equal(connector?.planned?.chargingNow, false);
      assert.deepEqual(connector?.planned?.next, { start: iso(t + HOUR), price: 0.1 });
      assert.deepEqual(
        summary.prices?.slots.map((slot) => [slot.price, slot.plannedFor]),
        [
          [0.3, undefined],
          [0.1, ['WB-1/1']],
          [0.2, undefined],
        ],
      );
      h.run(HOUR);
      const charging = h.manager.summary();
      assert.equal(charging.connectors[0]?.planned?.chargingNow, true);
      assert.deepEqual(charging.prices?.slots[0]?.plannedFor, ['WB-1/1']);
    });

    it('gives no figures to a connector without a plan, and no curve without prices', () => {
      house([{ chargePointId: 'WB-1', circuit: 'home', maxA: 16, mode: 'price' }]);
      h.run(10_000);
      assert.equal(h.manager.summary().connectors[0]?.planned, undefined);
      assert.equal(h.manager.summary().prices, undefined);
      h.manager.command(prices(h.clock.now()));
      h.run(10_000);
      const summary = h.manager.summary();
      assert.equal(summary.connectors[0]?.planned, undefined);
      assert.equal(summary.prices?.slots.length, 3);
      assert.ok(summary.prices?.slots.every((slot) => slot.plannedFor === undefined));
    });
  });
});
