import assert from 'node:assert/strict';
import fc from 'fast-check';
import { solve } from 'yalps';
import type { PerPhase } from '../../../lib/contracts';
import { planDeparture } from '../../../lib/dlm/modes/departure-planner';
import { parseSlotList } from '../../../lib/dlm/modes/price-list';
import type { ConnectorConfig } from '../../../lib/dlm/site';
import { harness } from './support';

const HOUR = 3_600_000;
const Q = 15 * 60_000;

describe('prices, plans and the price mode', () => {
  describe('the price list', () => {
    const t0 = Date.UTC(2026, 5, 1, 0);
    it('reads { start, end, price } with ISO times or ms, in any order', () => {
      const list = parseSlotList(
        {
          currency: 'EUR',
          prices: [
            { start: t0 + HOUR, end: t0 + 2 * HOUR, price: 0.2 },
            { start: new Date(t0).toISOString(), end: new Date(t0 + HOUR).toISOString(), price: '0.1' },
          ],
        },
        'prices',
      );
      assert.deepEqual(list, {
        currency: 'EUR',
        slots: [
          { startMs: t0, endMs: t0 + HOUR, value: 0.1 },
          { startMs: t0 + HOUR, endMs: t0 + 2 * HOUR, value: 0.2 },
        ],
      });
    });

    it("reads Tibber's, aWATTar's and Octopus's shapes", () => {
      const iso = (ms: number) => new Date(ms).toISOString();
      const tibber = parseSlotList(
        {
          today: [{ startsAt: iso(t0), total: 0.3, currency: 'EUR' }],
          tomorrow: [{ startsAt: iso(t0 + Q), total: 0.2 }],
        },
        'prices',
      );
      assert.deepEqual(tibber.slots, [
        { startMs: t0, endMs: t0 + Q, value: 0.3 },
        { startMs: t0 + Q, endMs: t0 + 2 * Q, value: 0.2 },
      ]);
      const awattar = parseSlotList(
        { data: [{ start_timestamp: t0, end_timestamp: t0 + HOUR, marketprice: 95.5, unit: 'Eur/MWh' }] },
        'prices',
      );
      assert.deepEqual(awattar.slots, [{ startMs: t0, endMs: t0 + HOUR, value: 0.0955 }]);
      const octopus = parseSlotList(
        { results: [{ valid_from: iso(t0), valid_to: iso(t0 + HOUR / 2), value_inc_vat: 21.3 }] },
        'prices',
      );
      assert.deepEqual(octopus.slots, [{ startMs: t0, endMs: t0 + HOUR / 2, value: 21.3 }]);
    });

    it('refuses a bad list naming the slot and the field', () => {
      const bad: [unknown, RegExp][] = [
        [{ price: 1 }, /^Error: prices: expected a list of \{ start, end, price \}/],
        [
          [{ start: t0, end: t0 + HOUR, price: 'cheap' }],
          /^Error: prices\[0\]\.price: "cheap" is not a number$/,
        ],
        [[{ end: t0 + HOUR, price: 1 }], /^Error: prices\[0\]\.start is missing$/],
        [
          [{ start: 'tomorrow', end: t0, price: 1 }],
          /^Error: prices\[0\]\.start: "tomorrow" is not an ISO 8601 time/,
        ],
        [[{ start: t0 + HOUR, end: t0, price: 1 }], /^Error: prices\[0\]\.end: .* is not after its start$/],
        [[{ start: t0, end: t0 + HOUR }], /^Error: prices\[0\]\.price is missing$/],
        [
          [
            { start: t0, end: t0 + HOUR, price: 1 },
            { start: t0 + HOUR / 2, end: t0 + 2 * HOUR, price: 1 },
          ],
          /^Error: prices\[1\]\.start: .* before the end of the slot before it/,
        ],
      ];
      for (const [payload, message] of bad) assert.throws(() => parseSlotList(payload, 'prices'), message);
    });
  });

  describe('the departure planner', () => {
    const now = Date.UTC(2026, 5, 1, 18);
    // 18:00-19:00 0.30, then 19:00-23:00 in hours at 0.25, 0.10, 0.12, 0.20.
    const prices = [0.3, 0.25, 0.1, 0.12, 0.2].map((value, i) => ({
      startMs: now + i * HOUR,
      endMs: now + (i + 1) * HOUR,
      value,
    }));
    it('puts the grid energy into the cheapest slots before the departure', () => {
      // 11 kWh at 10 kW (9 kW planned with the margin): 20:00-21:00 (9 kWh) and 2 kWh in 21:00-22:00.
      const plan = planDeparture({
        now,
        departureMs: now + 5 * HOUR,
        remainingWh: 11_000,
        maxW: 10_000,
        minW: 4_140,
        prices,
      });
      assert.equal(plan.chargeNow, false);
      assert.deepEqual(
        plan.pieces.map((p) => [(p.startMs - now) / HOUR, Math.round(p.gridWh)]),
        [
          [2, 9000],
          [3, 2000],
        ],
      );
      assert.equal(plan.shortWh, 0);
    });

    it('starts in the slot now only for what is worth a start, and keeps a car that charges in it', () => {
      // 9.5 kWh: 9 kWh in 20:00-21:00, 0.5 kWh in the next cheapest (21:00-22:00 at 0.12); with
      // 21:00 gone (the departure at 21:00), the 0.5 kWh fall to 18:00-19:00 or 19:00-20:00.
      const base = {
        now,
        departureMs: now + 3 * HOUR,
        remainingWh: 9_500,
        maxW: 10_000,
        minW: 4_140,
        prices,
      };
      const eager = planDeparture(base);
      assert.equal(eager.chargeNow, false, '0.5 kWh go to 19:00 (0.25), not now (0.30)');
      // The slot now is the second cheapest for 0.5 kWh: a start for less than 1 kWh is not worth it…
      const cheapNow = prices.map((slot, i) => (i === 0 ? { ...slot, value: 0.2 } : slot));
      assert.equal(planDeparture({ ...base, prices: cheapNow }).chargeNow, true);
      const worth = planDeparture({ ...base, prices: cheapNow, minRunWh: 1000 });
      assert.equal(worth.chargeNow, false);
      assert.equal(Math.round(worth.gridWh), 9_500, 'the 0.5 kWh went to 19:00');
      // …but a car that charges in it already goes on.
      assert.equal(
        planDeparture({ ...base, prices: cheapNow, minRunWh: 1000, chargingNow: true }).chargeNow,
        true,
      );
    });

    it('keeps a car charging in the slot now against a slot up to 3 % cheaper', () => {
      const near = [0.101, 0.1].map((value, i) => ({
        startMs: now + i * HOUR,
        endMs: now + (i + 1) * HOUR,
        value,
      }));
      const base = {
        now,
        departureMs: now + 2 * HOUR,
        remainingWh: 5_000,
        maxW: 10_000,
        minW: 4_140,
        prices: near,
      };
      assert.equal(planDeparture(base).chargeNow, false, 'a car not charging waits for 0.100');
      assert.equal(
        planDeparture({ ...base, chargingNow: true }).chargeNow,
        true,
        'a charging car goes on at 0.101',
      );
      const far = near.map((slot, i) => (i === 0 ? { ...slot, value: 0.11 } : slot));
      assert.equal(
        planDeparture({ ...base, prices: far, chargingNow: true }).chargeNow,
        false,
        '10 % dearer: it stops',
      );
    });

    it('takes PV first and says what cannot be had by the departure', () => {
      const forecast = [{ startMs: now, endMs: now + HOUR, value: 5_000 }];
      const plan = planDeparture({
        now,
        departureMs: now + 2 * HOUR,
        remainingWh: 30_000,
        maxW: 10_000,
        minW: 4_140,
        prices,
        pvForecast: forecast,
      });
      // 5 kWh from PV, 4 kWh beside it and 9 kWh after from the grid; 12 kWh short.
      assert.equal(Math.round(plan.pvWh), 5000);
      assert.equal(Math.round(plan.gridWh), 13_000);
      assert.equal(Math.round(plan.shortWh), 12_000);
      assert.equal(plan.chargeNow, true);
    });
  });

  describe('in the load manager', function () {
    // Simulated hours at 1 s updates: 6-8 s alone, past mocha's 10 s on a loaded 2-core machine.
    this.timeout(30_000);
    let h: ReturnType<typeof harness>;
    afterEach(() => h?.stop());

    /** A house on a 16 A fuse with a grid meter; its cars take what they are offered and count their energy. */
    function house(connectors: ConnectorConfig[]) {
      h = harness({
        circuits: [{ id: 'home', limitA: 16, meter: { source: 'grid', location: 'includesChargers' } }],
        connectors,
        pv: {},
      });
      const world: { pvW: number; houseW: number; energyWh: number; full?: number } = {
        pvW: 0,
        houseW: 300,
        energyWh: 0,
      };
      h.feed(() => {
        // A full car (its SoC `world.full`) draws nothing whatever it is offered.
        const drawn = world.full === undefined ? (h.limit('WB-1/1') ?? 0) : 0;
        world.energyWh += (drawn * 3 * 230) / 3600;
        h.state('WB-1/1', {
          ...(world.full === undefined ? {} : { socPercent: world.full }),
          status: world.full !== undefined ? 'SuspendedEV' : drawn > 0 ? 'Charging' : 'SuspendedEVSE',
          currentA: [drawn, drawn, drawn] as PerPhase,
          energyWh: world.energyWh,
        });
        const gridW = world.houseW + drawn * 690 - world.pvW;
        h.meter('grid', [gridW / 690, gridW / 690, gridW / 690], { totalPowerW: gridW });
      });
      h.start();
      h.plugIn('WB-1/1');
      return world;
    }
    const wallbox: ConnectorConfig = { chargePointId: 'WB-1', circuit: 'home', maxA: 16, mode: 'price' };
    const reason = () => h.setPoint('WB-1/1')?.reason ?? '';
    const hhmm = (ms: number) => {
      const at = new Date(ms);
      return `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
    };

    it('charges a planned car in the cheapest slots before its departure, and says so', () => {
      const world = house([wallbox]);
      const t = h.clock.now();
      // Now 0.30 for an hour, then 0.10 for an hour, then 0.20.
      h.manager.command({
        type: 'prices',
        prices: {
          currency: 'EUR',
          prices: [0.3, 0.1, 0.2, 0.2].map((price, i) => ({
            start: t + i * HOUR,
            end: t + (i + 1) * HOUR,
            price,
          })),
        },
      });
      h.manager.command({
        type: 'plan',
        chargePointId: 'WB-1',
        energyKWh: 8,
        departure: new Date(t + 4 * HOUR).toISOString(),
      });
      h.run(60_000);
      assert.equal(h.limit('WB-1/1') ?? 0, 0, 'nothing from the grid at 0.30 €/kWh');
      assert.match(
        reason(),
        new RegExp(
          `^next: ${hhmm(t + HOUR)} at 0\\.10 €/kWh, the cheapest 4\\d min before ${hhmm(t + 4 * HOUR)}; 8\\.0 kWh planned; pv: `,
        ),
      );
      const summary = h.manager.summary();
      assert.equal(summary.connectors[0]?.mode, 'price');
      assert.match(summary.connectors[0]?.plan ?? '', /^next: /);
      assert.deepEqual(summary.prices, {
        now: 0.3,
        currency: 'EUR',
        until: new Date(t + 4 * HOUR).toISOString(),
        // The curve of the next hours, the cheap hour marked as the plan's (modes/plan-figures.ts).
        slots: [0.3, 0.1, 0.2, 0.2].map((price, i) => ({
          start: new Date(t + i * HOUR).toISOString(),
          end: new Date(t + (i + 1) * HOUR).toISOString(),
          price,
          ...(i === 1 ? { plannedFor: ['WB-1/1'] } : {}),
        })),
      });
      h.run(HOUR);
      assert.ok((h.limit('WB-1/1') ?? 0) >= 15, `${h.limit('WB-1/1')} A in the cheap hour`);
      assert.match(reason(), /^charging now: 0\.10 €\/kWh, the cheapest/);
      // 15.5 A × 690 W: 10.7 kW, the 8 kWh within the cheap hour.
      h.run(HOUR);
      assert.ok(world.energyWh >= 8000 && world.energyWh < 8200, `${world.energyWh} Wh`);
      assert.equal(h.limit('WB-1/1') ?? 0, 0);
      assert.match(reason(), /^8\.0 kWh reached before/);
    });

    it('plans "to 80 % by the departure" from the SoC and capacity sent, charges that energy, and is done at the target', function () {
      // Three simulated hours at 1 s updates: 4-8 s alone, past mocha's 10 s on a loaded machine.
      this.timeout(30_000);
      const world = house([wallbox]);
      const t = h.clock.now();
      h.manager.command({
        type: 'prices',
        prices: [0.1, 0.1, 0.1, 0.1, 0.3, 0.3, 0.3, 0.2, 0.2, 0.2].map((price, i) => ({
          start: t + i * HOUR,
          end: t + (i + 1) * HOUR,
          price,
        })),
      });
      // A % without a SoC or without a capacity is refused naming the field; nothing is planned.
      assert.throws(
        () =>
          h.manager.command({
            type: 'plan',
            chargePointId: 'WB-1',
            targetPercent: 80,
            departure: t + 10 * HOUR,
          }),
        /^Error: plan targetPercent: no state of charge known for WB-1\/1/,
      );
      h.manager.command({ type: 'soc', chargePointId: 'WB-1', connectorId: 1, percent: 30 });
      assert.throws(
        () =>
          h.manager.command({
            type: 'plan',
            chargePointId: 'WB-1',
            targetPercent: 80,
            departure: t + 10 * HOUR,
          }),
        /^Error: plan targetPercent: the battery capacity of WB-1\/1 is not known/,
      );
      assert.equal(
        h.manager.command({ type: 'soc', chargePointId: 'WB-1', percent: 30, capacityKWh: 60 }),
        'soc of WB-1/1: 30 % of 60 kWh',
      );
      assert.match(
        h.manager.command({
          type: 'plan',
          chargePointId: 'WB-1',
          targetPercent: 80,
          departure: t + 10 * HOUR,
        }),
        /^plan of WB-1\/1: 80 %: 30 kWh by /,
      );
      h.run(1000);
      assert.equal(h.manager.summary().connectors[0]?.planned?.energyWh, 30_000, '(80 − 30) % of 60 kWh');
      h.run(60_000);
      assert.ok((h.limit('WB-1/1') ?? 0) >= 15, 'charging in the cheap hours now');
      h.run(3 * HOUR);
      // 15.5 A × 690 W: 10.7 kW, the 30 kWh in 2.8 h of the four cheap hours.
      assert.ok(world.energyWh >= 30_000 && world.energyWh < 30_300, `${world.energyWh} Wh`);
      assert.match(reason(), /^30\.0 kWh reached before/);
    });

    it('ends a plan in % at the SoC reported, or when the car is full and stops drawing', () => {
      const world = house([wallbox]);
      const t = h.clock.now();
      h.manager.command({
        type: 'prices',
        prices: [0.1, 0.1, 0.1].map((price, i) => ({ start: t + i * HOUR, end: t + (i + 1) * HOUR, price })),
      });
      h.manager.command({ type: 'soc', chargePointId: 'WB-1', percent: 50, capacityKWh: 40 });
      h.manager.command({ type: 'plan', chargePointId: 'WB-1', targetPercent: 90, departure: t + 3 * HOUR });
      h.run(60_000);
      assert.ok((h.limit('WB-1/1') ?? 0) > 0, 'charging in the cheap hour');
      // A new SoC plans the energy again from it: 70 % of 40 kWh, 8 kWh to 90 % (less the second since).
      h.manager.command({ type: 'soc', chargePointId: 'WB-1', percent: 70 });
      h.run(1000);
      const planned = h.manager.summary().connectors[0]?.planned?.energyWh ?? 0;
      assert.ok(planned > 7_900 && planned <= 8_000, `${planned} Wh planned`);
      // The car's app says 90 % before the register counted 16 kWh: done.
      h.manager.command({ type: 'soc', chargePointId: 'WB-1', percent: 90 });
      h.run(60_000);
      assert.match(reason(), /^90 % reached before/);
      assert.equal(h.limit('WB-1/1') ?? 0, 0);
      // A plan to 100 %: the car stops drawing at 97 % (its charger says so): full, done.
      h.manager.command({ type: 'soc', chargePointId: 'WB-1', percent: 60 });
      h.manager.command({ type: 'plan', chargePointId: 'WB-1', targetPercent: 100, departure: t + 3 * HOUR });
      h.run(60_000);
      assert.ok((h.limit('WB-1/1') ?? 0) > 0);
      world.full = 97;
      h.run(60_000);
      assert.match(reason(), /^full \(97 %\) before/);
      assert.equal(h.limit('WB-1/1') ?? 0, 0);
    });

    it("plans for a car's ISO 15118 energy and departure without a plan command", () => {
      house([wallbox]);
      const t = h.clock.now();
      h.manager.command({
        type: 'prices',
        prices: [0.3, 0.1, 0.2].map((price, i) => ({ start: t + i * HOUR, end: t + (i + 1) * HOUR, price })),
      });
      h.state('WB-1/1', {
        carNeeds: { at: h.iso(), energyWh: 5_000, departureTime: new Date(t + 3 * HOUR).toISOString() },
      });
      h.run(60_000);
      assert.equal(h.limit('WB-1/1') ?? 0, 0);
      assert.match(
        reason(),
        new RegExp(
          `^next: ${hhmm(t + HOUR)} at 0\\.10/kWh, the cheapest \\d+ min before ${hhmm(t + 3 * HOUR)}; 5\\.0 kWh planned`,
        ),
      );
    });

    it('charges below its price limit only (the price-limit mode)', () => {
      house([wallbox]);
      const t = h.clock.now();
      h.manager.command({
        type: 'prices',
        prices: [0.3, 0.1].map((price, i) => ({ start: t + i * HOUR, end: t + (i + 1) * HOUR, price })),
      });
      h.manager.command({ type: 'plan', chargePointId: 'WB-1', priceLimit: 0.15 });
      h.run(60_000);
      assert.equal(h.limit('WB-1/1') ?? 0, 0);
      assert.match(reason(), /^0\.30\/kWh above the limit 0\.15\/kWh: PV surplus only; pv: /);
      h.run(HOUR);
      assert.equal(h.limit('WB-1/1'), 15.5, 'what the fuse leaves beside the house');
      assert.match(reason(), /^charging now: 0\.10\/kWh at or below the limit 0\.15\/kWh; limited: /);
      // Past the known prices: PV only again.
      h.run(HOUR + 180_000);
      assert.equal(h.limit('WB-1/1') ?? 0, 0);
      assert.match(reason(), /^no price known now/);
    });

    it('keeps a price limit when a plan comes, and removes it on priceLimit null', () => {
      house([wallbox]);
      const t = h.clock.now();
      h.manager.command({
        type: 'prices',
        prices: [0.3, 0.1, 0.1].map((price, i) => ({ start: t + i * HOUR, end: t + (i + 1) * HOUR, price })),
      });
      h.manager.command({ type: 'plan', chargePointId: 'WB-1', priceLimit: 0.35 });
      h.manager.command({ type: 'plan', chargePointId: 'WB-1', energyKWh: 5, departure: t + 3 * HOUR });
      h.run(60_000);
      assert.ok((h.limit('WB-1/1') ?? 0) > 0, 'at 0.30, below its limit 0.35, although the plan waits');
      assert.match(reason(), /^0\.30\/kWh at or below the limit 0\.35\/kWh; next: /);
      h.manager.command({ type: 'plan', chargePointId: 'WB-1', priceLimit: null });
      h.run(200_000);
      assert.equal(h.limit('WB-1/1') ?? 0, 0);
      assert.match(reason(), /^next: /);
    });

    it("refuses a list entirely past and a departure already gone, keeping today's list and the plan in force", () => {
      house([wallbox]);
      const t = h.clock.now();
      const today = [0.3, 0.1].map((price, i) => ({ start: t + i * HOUR, end: t + (i + 1) * HOUR, price }));
      h.manager.command({ type: 'prices', prices: today });
      h.manager.command({ type: 'plan', chargePointId: 'WB-1', energyKWh: 5, departure: t + 2 * HOUR });
      h.run(60_000);
      assert.match(reason(), /^next: .*; 5\.0 kWh planned/);
      // Yesterday's list, sent again: refused whole, naming it.
      const yesterday = today.map((slot) => ({
        ...slot,
        start: slot.start - 24 * HOUR,
        end: slot.end - 24 * HOUR,
      }));
      assert.throws(
        () => h.manager.command({ type: 'prices', prices: yesterday }),
        /^Error: prices: the whole list is past \(its last slot ends .*\); the prices known are kept/,
      );
      // A departure gone an hour ago: refused, naming the field and the time in the site's zone.
      assert.throws(
        () =>
          h.manager.command({
            type: 'plan',
            chargePointId: 'WB-1',
            energyKWh: 20,
            departure: new Date(t - HOUR).toISOString(),
          }),
        /^Error: plan departure: \S+ \(\d\d:\d\d today\) is past: send the next departure with its date/,
      );
      h.run(60_000);
      assert.equal(h.manager.summary().prices?.now, 0.3, "today's list kept");
      assert.match(reason(), /^next: .*; 5\.0 kWh planned/, 'the plan in force kept');
      // A list partly past is taken: its slot now counts.
      h.manager.command({
        type: 'prices',
        prices: [
          { start: t - HOUR, end: t, price: 0.5 },
          { start: t, end: t + 3 * HOUR, price: 0.2 },
        ],
      });
      assert.equal(h.manager.summary().prices?.now, 0.2);
    });

    it('refuses bad prices and plans naming the field, and keeps what it had', () => {
      house([wallbox]);
      const t = h.clock.now();
      h.manager.command({ type: 'prices', prices: [{ start: t, end: t + HOUR, price: 0.1 }] });
      assert.throws(
        () =>
          h.manager.command({
            type: 'prices',
            prices: [
              { start: t, end: t + HOUR, price: 0.2 },
              { start: t + HOUR, price: null },
            ],
          }),
        /^Error: prices\[1\]\.price: null is not a number$/,
      );
      assert.equal(h.manager.summary().prices?.now, 0.1);
      assert.throws(
        () => h.manager.command({ type: 'plan', chargePointId: 'WB-1', energyKWh: 10 }),
        /plan departure is missing/,
      );
      assert.throws(
        () => h.manager.command({ type: 'plan', chargePointId: 'WB-1', energyKWh: -1, departure: t + HOUR }),
        /plan energyKWh: -1 is below 0/,
      );
      assert.throws(
        () => h.manager.command({ type: 'plan', chargePointId: 'WB-1', energyKWh: 1, departure: 'at seven' }),
        /plan departure: "at seven" is not an ISO 8601 time/,
      );
      assert.throws(
        () => h.manager.command({ type: 'plan', chargePointId: 'WB-9', priceLimit: 1 }),
        /no connector WB-9\/\*/,
      );
    });
  });
});

describe('the departure planner (properties)', () => {
  it('puts the grid energy where an exact LP (yalps simplex) puts it: the same cost, every piece within what it counts on', () => {
    const now = Date.UTC(2026, 5, 1, 18);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -5, max: 60 }), { minLength: 1, maxLength: 24 }),
        fc.array(fc.integer({ min: 0, max: 8000 }), { minLength: 24, maxLength: 24 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: 1_400, max: 22_000 }),
        fc.integer({ min: 1, max: 24 * 4 }),
        (cents, pvW, remainingWh, maxW, quarters) => {
          const prices = cents.map((c, i) => ({
            startMs: now + i * Q,
            endMs: now + (i + 1) * Q,
            value: c / 100,
          }));
          const pvForecast = pvW.map((w, i) => ({
            startMs: now + i * Q,
            endMs: now + (i + 1) * Q,
            value: w,
          }));
          const departureMs = now + quarters * Q;
          const minW = 1_380;
          const plan = planDeparture({ now, departureMs, remainingWh, maxW, minW, prices, pvForecast });
          // The LP over the same pieces: what PV gives each (as the planner counts it) is fixed; the
          // grid g_i ≤ 0.9 × maxW × dt − pv_i, Σ g ≤ the rest, maximise Σ g first (the energy),
          // then minimise the cost (unknown prices last: a big price).
          const pieces: { room: number; price: number }[] = [];
          for (let t = now; t < departureMs; t += Q) {
            const i = (t - now) / Q;
            const w = pvW[i] ?? 0;
            const usable = w >= minW ? Math.min(w, maxW) / 4 : 0;
            pieces.push({ room: Math.max(0, 0.9 * (maxW / 4) - usable), price: prices[i]?.value ?? 1000 });
          }
          const needGrid = remainingWh - plan.pvWh;
          const constraints = new Map<string, { max?: number; equal?: number }>([
            [
              'grid',
              {
                equal: Math.min(
                  needGrid,
                  pieces.reduce((s, p) => s + p.room, 0),
                ),
              },
            ],
          ]);
          const variables = new Map<string, Map<string, number>>();
          pieces.forEach((p, i) => {
            constraints.set(`r${i}`, { max: p.room });
            variables.set(
              `g${i}`,
              new Map([
                ['cost', p.price],
                ['grid', 1],
                [`r${i}`, 1],
              ]),
            );
          });
          const lp = solve({ direction: 'minimize', objective: 'cost', constraints, variables });
          assert.equal(lp.status, 'optimal');
          const cost = plan.pieces.reduce((s, p) => s + (p.price ?? 1000) * p.gridWh, 0);
          assert.ok(
            Math.abs(cost - lp.result) <= 1e-6 * Math.max(1, Math.abs(lp.result)),
            `${cost} vs ${lp.result}`,
          );
          assert.ok(Math.abs(plan.gridWh + plan.pvWh + plan.shortWh - remainingWh) < 1e-6);
        },
      ),
      { numRuns: 300 },
    );
  });
});
