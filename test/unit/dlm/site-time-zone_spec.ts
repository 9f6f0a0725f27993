import assert from 'node:assert/strict';
import type { PerPhase } from '../../../lib/contracts';
import {
  type ConnectorConfig,
  parseSite,
  type SiteConfig,
  SiteConfigError,
  validateSite,
} from '../../../lib/dlm/site';
import { clockTime, processTimeZone } from '../../../lib/dlm/site/time-zone';
import { harness } from './support';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const circuits: SiteConfig['circuits'] = [
  { id: 'home', limitA: 16, meter: { source: 'grid', location: 'includesChargers' } },
];

/**
 * Issue 39: the load manager's clock times are the site's (`timeZone`), not the Node-RED process's
 * (Node-RED in Docker runs in UTC unless TZ is set). The zone is passed in the site config, so the
 * tests hold whatever zone the test process runs in; the expected hours are written out (Berlin is
 * UTC+2 in June, UTC+1 in November).
 */
describe('the site time zone', () => {
  it('writes a clock time in the zone it is given, with the date when not within a day', () => {
    const now = Date.UTC(2026, 5, 1, 8); // 10:00 in Berlin (summer time)
    assert.equal(clockTime(now + HOUR, now, 'Europe/Berlin'), '11:00');
    assert.equal(clockTime(now + HOUR, now, 'UTC'), '09:00');
    assert.equal(
      clockTime(Date.UTC(2026, 10, 26, 23, 5), Date.UTC(2026, 10, 26, 20), 'Europe/Berlin'),
      '00:05',
    );
    assert.equal(clockTime(now + 30 * HOUR, now, 'Europe/Berlin'), '2026-06-02 16:00');
    assert.equal(
      clockTime(Date.UTC(2026, 10, 26, 23), Date.UTC(2026, 9, 1), 'Europe/Berlin'),
      '2026-11-27 00:00',
    );
  });

  it("defaults to the process's zone, takes an IANA name, and refuses one Intl does not know, naming the field", () => {
    const site = (timeZone?: unknown) => ({
      circuits,
      connectors: [],
      ...(timeZone === undefined ? {} : { timeZone }),
    });
    assert.equal(parseSite(site()).timeZone, processTimeZone());
    assert.equal(parseSite(site('Europe/Berlin')).timeZone, 'Europe/Berlin');
    for (const bad of ['Europe/Nowhere', 'CEST+2', 7]) {
      const result = validateSite(site(bad));
      assert.equal(result.site, undefined, String(bad));
      assert.equal(result.problems[0]?.field, 'timeZone');
      assert.match(result.problems[0]?.message ?? '', /IANA/);
      assert.throws(
        () => parseSite(site(bad)),
        (error: unknown) => error instanceof SiteConfigError,
      );
    }
  });

  describe('in the load manager (the process in its own zone, the site in Berlin)', () => {
    let h: ReturnType<typeof harness>;
    afterEach(() => h?.stop());

    function house(connector: ConnectorConfig, timeZone = 'Europe/Berlin') {
      h = harness({ circuits, connectors: [connector], pv: {}, timeZone });
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

    it("gives a price plan's next slot and departure in the site's zone, and the summary names the zone", () => {
      house({ chargePointId: 'WB-1', circuit: 'home', maxA: 16, mode: 'price' });
      const t = h.clock.now(); // 2026-06-01 08:00 UTC, 10:00 in Berlin
      assert.equal(t, Date.UTC(2026, 5, 1, 8));
      h.manager.command({
        type: 'prices',
        prices: {
          currency: 'EUR',
          prices: [0.3, 0.1, 0.2].map((price, i) => ({
            start: t + i * HOUR,
            end: t + (i + 1) * HOUR,
            price,
          })),
        },
      });
      h.manager.command({ type: 'plan', chargePointId: 'WB-1', energyKWh: 5, departure: iso(t + 3 * HOUR) });
      h.run(60_000);
      const summary = h.manager.summary();
      assert.equal(summary.timeZone, 'Europe/Berlin');
      assert.match(
        summary.connectors[0]?.plan ?? '',
        /^next: 11:00 at 0\.10 €\/kWh, the cheapest [\d\w ]+ before 13:00; 5\.0 kWh planned/,
      );
      // The figures stay UTC instants: a dashboard writes them in the summary's zone.
      assert.equal(summary.connectors[0]?.planned?.next?.start, iso(t + HOUR));
    });

    it("gives a car's own departure (ISO 15118) in the site's zone", () => {
      house({ chargePointId: 'WB-1', circuit: 'home', maxA: 16, mode: 'pv' });
      const departure = h.clock.now() + 2 * HOUR; // 12:00 in Berlin
      h.state('WB-1/1', {
        carNeeds: { at: h.iso(), departureTime: iso(departure), energyWh: 20_000, phases: 3 },
      });
      h.run(120_000);
      assert.match(h.setPoint('WB-1/1')?.reason ?? '', /to have 20 kWh by 12:00\)$/);
    });

    it('keeps the site and its zone when a new site names a zone Intl does not know', () => {
      house({ chargePointId: 'WB-1', circuit: 'home', maxA: 16, mode: 'pv' });
      assert.throws(
        () =>
          h.manager.command({ type: 'site', site: { circuits, connectors: [], timeZone: 'Mars/Olympus' } }),
        /timeZone.*Mars\/Olympus/,
      );
      assert.equal(h.manager.site.timeZone, 'Europe/Berlin');
      assert.equal(h.manager.site.connectors.length, 1);
    });
  });
});
